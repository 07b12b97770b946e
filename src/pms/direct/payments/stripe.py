"""Stripe over its REST API (httpx, form-encoded bodies, bearer secret key, idempotency keys):
PaymentIntents for card payments (charged at once, or authorised and captured or cancelled
later), refunds, and verified webhooks."""

from __future__ import annotations

import asyncio
import ssl
import uuid
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlencode

import certifi
import httpx
from pydantic import SecretStr

from pms.core.money import Money
from pms.direct.payments.base import (
    PaymentProviderError,
    PaymentRequest,
    ProviderPayment,
    ProviderRefund,
    RefundTarget,
)
from pms.direct.payments.signature import (
    DEFAULT_TOLERANCE_SECONDS,
    InvalidWebhook,
    StripeEventData,
    verify_event,
)
from pms.logs import get_logger
from pms.models.payment import CaptureMethod, PaymentMethod, PaymentProviderName, PaymentStatus
from pms.settings import Settings

log = get_logger(__name__)

Form = list[tuple[str, str]]
_RETRY_STATUSES: Final = frozenset({409, 429, 500, 502, 503, 504})
# Built once at import: loading a trust store takes long enough to stall an event loop.
_SSL_CONTEXT: Final = ssl.create_default_context(cafile=certifi.where())


def form(params: Mapping[str, Any], prefix: str = "") -> Form:
    """Stripe's form encoding: nested mappings as ``metadata[key]=value``, booleans lowercase."""
    out: Form = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, Mapping):
            out.extend(form(value, name))
        elif isinstance(value, bool):
            out.append((name, "true" if value else "false"))
        else:
            out.append((name, str(value)))
    return out


class StripeClient:
    """A minimal Stripe API client. Every POST carries an idempotency key, so a retry after a
    timeout or a 5xx can never charge or refund twice."""

    def __init__(
        self,
        api_base: str,
        secret_key: SecretStr,
        *,
        timeout: float = 20.0,
        max_retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base = api_base.rstrip("/")
        self._key = secret_key
        self._timeout = timeout
        self._max_retries = max_retries
        self._transport = transport

    async def _request(
        self, method: str, path: str, data: Form | None = None, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._key.get_secret_value()}"}
        body = None
        if data is not None:
            body = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        attempt = 0
        async with httpx.AsyncClient(
            base_url=self._base,
            timeout=self._timeout,
            transport=self._transport,
            verify=_SSL_CONTEXT,
            trust_env=False,
        ) as client:
            while True:
                attempt += 1
                try:
                    response = await client.request(method, path, content=body, headers=headers)
                except httpx.TransportError as exc:
                    if attempt <= self._max_retries:
                        await asyncio.sleep(0.25 * 2**attempt)
                        continue
                    log.warning("stripe_unreachable", path=path, error=type(exc).__name__)
                    raise PaymentProviderError("Stripe could not be reached.") from None
                should_retry = response.headers.get("Stripe-Should-Retry")
                retryable = (
                    should_retry == "true"
                    if should_retry is not None
                    else response.status_code in _RETRY_STATUSES
                )
                if response.status_code >= 400 and retryable and attempt <= self._max_retries:
                    await asyncio.sleep(0.25 * 2**attempt)
                    continue
                return self._result(path, response)

    @staticmethod
    def _result(path: str, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code < 400 and isinstance(body, dict):
            return body
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        log.warning(
            "stripe_error",
            path=path,
            status=response.status_code,
            type=error.get("type"),
            code=error.get("code"),
        )
        message = str(error.get("message") or f"Stripe answered {response.status_code}.")
        raise PaymentProviderError(
            message[:300],
            provider_status=response.status_code,
            provider_code=error.get("code"),
            provider_error_type=error.get("type"),
        )

    async def create_payment_intent(
        self,
        *,
        amount_minor: int,
        currency: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
        description: str | None = None,
        capture_method: CaptureMethod = CaptureMethod.AUTOMATIC,
    ) -> dict[str, Any]:
        params = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "description": description,
            "metadata": dict(metadata),
            "automatic_payment_methods": {"enabled": True},
            # Stripe's default is automatic; sent only when it differs, as Stripe's SDKs do.
            "capture_method": capture_method.value
            if capture_method is CaptureMethod.MANUAL
            else None,
        }
        return await self._request("POST", "/v1/payment_intents", form(params), idempotency_key)

    async def capture_payment_intent(
        self, payment_intent_id: str, *, idempotency_key: str
    ) -> dict[str, Any]:
        """Take the authorised amount (the whole of it: Stripe releases what is not captured)."""
        return await self._request(
            "POST", f"/v1/payment_intents/{payment_intent_id}/capture", [], idempotency_key
        )

    async def cancel_payment_intent(
        self, payment_intent_id: str, *, idempotency_key: str, reason: str | None = None
    ) -> dict[str, Any]:
        """Void an unpaid PaymentIntent or release an authorisation."""
        params = {"cancellation_reason": reason}
        return await self._request(
            "POST", f"/v1/payment_intents/{payment_intent_id}/cancel", form(params), idempotency_key
        )

    async def retrieve_payment_intent(self, payment_intent_id: str) -> dict[str, Any]:
        return await self._request("GET", f"/v1/payment_intents/{payment_intent_id}")

    async def create_refund(
        self,
        *,
        payment_intent: str,
        amount_minor: int,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        params = {
            "payment_intent": payment_intent,
            "amount": amount_minor,
            "metadata": dict(metadata or {}),
        }
        return await self._request("POST", "/v1/refunds", form(params), idempotency_key)


_PI_STATUS: Final = {
    "succeeded": PaymentStatus.SUCCEEDED,
    "requires_capture": PaymentStatus.AUTHORIZED,
    "canceled": PaymentStatus.FAILED,
}


class StripeProvider:
    name = PaymentProviderName.STRIPE
    methods = frozenset({PaymentMethod.CARD})

    def __init__(
        self,
        client: StripeClient,
        *,
        webhook_secret: SecretStr | None,
        publishable_key: str | None = None,
        hosted_page_url: str | None = None,
        tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    ) -> None:
        self.client = client
        self._webhook_secret = webhook_secret
        self._publishable_key = publishable_key
        self._hosted_page_url = hosted_page_url
        self._tolerance = tolerance

    @classmethod
    def from_settings(
        cls, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> StripeProvider:
        if settings.stripe_secret_key is None:
            raise PaymentProviderError("Stripe is not configured (STRIPE_SECRET_KEY).")
        client = StripeClient(
            settings.stripe_api_base,
            settings.stripe_secret_key,
            timeout=settings.stripe_timeout_seconds,
            transport=transport,
        )
        return cls(
            client,
            webhook_secret=settings.stripe_webhook_secret,
            publishable_key=settings.stripe_publishable_key,
            hosted_page_url=settings.stripe_hosted_page_url,
            tolerance=settings.stripe_webhook_tolerance_seconds,
        )

    async def create_payment(
        self, request: PaymentRequest, *, idempotency_key: str
    ) -> ProviderPayment:
        intent = await self.client.create_payment_intent(
            amount_minor=request.amount.amount_minor,
            currency=request.amount.currency,
            metadata={
                "agency_id": str(request.agency_id),
                "booking_id": str(request.booking_id),
                "booking_reference": request.booking_reference,
            },
            idempotency_key=idempotency_key,
            description=request.description,
            capture_method=request.capture_method,
        )
        intent_id, secret = intent.get("id"), intent.get("client_secret")
        if not isinstance(intent_id, str) or not isinstance(secret, str):
            raise PaymentProviderError("Stripe answered without a PaymentIntent id.")
        return ProviderPayment(
            provider_ref=intent_id,
            status=_PI_STATUS.get(str(intent.get("status")), PaymentStatus.PENDING),
            client={
                "provider": self.name.value,
                "payment_intent_id": intent_id,
                "client_secret": secret,
                "publishable_key": self._publishable_key,
                # Development only: the fake Stripe's payment page for this intent.
                **(
                    {"hosted_page_url": f"{self._hosted_page_url.rstrip('/')}/{intent_id}"}
                    if self._hosted_page_url
                    else {}
                ),
            },
        )

    async def refund(
        self, target: RefundTarget, amount: Money, *, idempotency_key: str
    ) -> ProviderRefund:
        refund = await self.client.create_refund(
            payment_intent=target.provider_ref,
            amount_minor=amount.amount_minor,
            idempotency_key=idempotency_key,
            metadata={"booking_id": str(target.booking_id), "payment_id": str(target.payment_id)},
        )
        status = refund.get("status")
        if status in ("failed", "canceled"):
            raise PaymentProviderError(f"Stripe reports the refund as {status}.")
        return ProviderRefund(
            provider_ref=str(refund.get("id")),
            amount=amount,
            status="succeeded" if status == "succeeded" else "pending",
        )

    def verify_webhook(self, payload: bytes, headers: Mapping[str, str]) -> StripeEventData:
        if self._webhook_secret is None:
            raise InvalidWebhook("Stripe webhooks are not configured on this server.")
        header = next((v for k, v in headers.items() if k.lower() == "stripe-signature"), None)
        return verify_event(
            payload, header, self._webhook_secret.get_secret_value(), tolerance=self._tolerance
        )


def idempotency_key(*parts: object) -> str:
    """A stable key from what makes a request unique (never random: retries must reuse it)."""
    return "pms-" + str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(str(p) for p in parts)))
