"""A fake Stripe for tests and the demo: the same HTTP shapes as Stripe's API for PaymentIntents
and refunds (form-encoded bodies, ``Authorization: Bearer sk_test_…``, ``Idempotency-Key``,
errors as ``{"error": {…}}`` with a 4xx), and signed webhooks like Stripe's.

A guest's card is simulated two ways: ``POST /v1/payment_intents/{id}/confirm`` with a test
payment method (``pm_card_visa`` succeeds, ``pm_card_chargeDeclined`` is declined) as Stripe.js
would, or the control endpoint ``POST /control/payment_intents/{id}/complete``. Either sends
``payment_intent.succeeded`` / ``payment_intent.payment_failed`` to the configured webhook URL;
a PaymentIntent created with ``capture_method=manual`` is only authorised instead
(``requires_capture``, ``payment_intent.amount_capturable_updated``) until the PMS captures it
(``…/capture`` → ``succeeded``) or cancels it (``…/cancel`` → ``canceled``). The events of those
two server-side calls are delivered after the answer, as Stripe does (never inside the call, so
a caller holding database locks while it waits is not deadlocked by its own webhook).

Run alone (``create_stripe_fake_app()`` under uvicorn) or mount it, e.g. at ``/stripe`` in the
sandbox; the PMS then uses ``STRIPE_API_BASE=<sandbox>/stripe``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import ssl
import string
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

import certifi
import httpx
from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from pms.logs import get_logger
from pms.settings import SANDBOX_STRIPE_SECRET_KEY, SANDBOX_STRIPE_WEBHOOK_SECRET, Settings

log = get_logger(__name__)

DEFAULT_API_KEY = SANDBOX_STRIPE_SECRET_KEY
DEFAULT_WEBHOOK_SECRET = SANDBOX_STRIPE_WEBHOOK_SECRET
API_VERSION = "2024-06-20"
DECLINING_METHODS = frozenset({"pm_card_chargeDeclined", "pm_card_visa_chargeDeclined"})
CAPTURE_METHODS = frozenset({"automatic", "automatic_async", "manual"})
CANCELLATION_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer", "abandoned"})
# Statuses from which Stripe lets a PaymentIntent be cancelled.
CANCELABLE = frozenset(
    {
        "requires_payment_method",
        "requires_capture",
        "requires_confirmation",
        "requires_action",
        "processing",
    }
)
_ALNUM = string.ascii_letters + string.digits
_SSL_CONTEXT = ssl.create_default_context(cafile=certifi.where())


def _id(prefix: str) -> str:
    return prefix + "_" + "".join(secrets.choice(_ALNUM) for _ in range(24))


class StripeFakeError(Exception):
    def __init__(self, status: int, type_: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message, **extra}}


@dataclass
class FakeStripeConfig:
    api_key: str = DEFAULT_API_KEY
    webhook_url: str | None = None
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    webhook_timeout_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> FakeStripeConfig:
        """The keys the PMS is configured with (so both sides agree when they share the
        environment), and the PMS's own webhook endpoint."""
        key = settings.stripe_secret_key
        secret = settings.stripe_webhook_secret
        return cls(
            api_key=key.get_secret_value() if key else DEFAULT_API_KEY,
            webhook_secret=secret.get_secret_value() if secret else DEFAULT_WEBHOOK_SECRET,
            webhook_url=f"{settings.public_base_url.rstrip('/')}/api/v1/webhooks/stripe",
        )


def dev_environment(sandbox_url: str) -> dict[str, str]:
    """Environment for ``pms dev``: the PMS uses the fake mounted at ``<sandbox_url>/stripe``
    with the fake's test keys (apply with ``os.environ.setdefault`` so real settings win)."""
    return {
        "STRIPE_API_BASE": f"{sandbox_url.rstrip('/')}/stripe",
        "STRIPE_SECRET_KEY": DEFAULT_API_KEY,
        "STRIPE_WEBHOOK_SECRET": DEFAULT_WEBHOOK_SECRET,
        "STRIPE_PUBLISHABLE_KEY": "pk_test_pms_sandbox",
        "STRIPE_HOSTED_PAGE_URL": f"{sandbox_url.rstrip('/')}/stripe/pay",
    }


@dataclass
class Delivery:
    at: float
    status_code: int | None
    error: str | None = None


@dataclass
class FakeEvent:
    body: dict[str, Any]
    deliveries: list[Delivery] = field(default_factory=list)


def _stripe_signature(secret: str, timestamp: int, payload: bytes) -> str:
    """Written here independently of the PMS's verifier, so the tests check one against the
    other rather than a function against itself."""
    mac = hmac.new(secret.encode(), b"%d." % timestamp + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class StripeFake:
    def __init__(self, config: FakeStripeConfig | None = None) -> None:
        self.config = config or FakeStripeConfig()
        self._client: httpx.AsyncClient | None = None
        self._deliveries: set[asyncio.Task[Delivery]] = set()
        self.reset()

    def reset(self) -> None:
        self.intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.refunded: dict[str, int] = {}
        self.events: dict[str, FakeEvent] = {}
        # key → (method+path, parameters, status, body)
        self.idempotency: dict[str, tuple[str, list[tuple[str, str]], int, dict[str, Any]]] = {}
        self.requests: list[dict[str, Any]] = []

    async def close(self) -> None:
        if self._deliveries:
            await asyncio.gather(*self._deliveries, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- resources ------------------------------------------------------------------------

    def intent(self, intent_id: str) -> dict[str, Any]:
        try:
            return self.intents[intent_id]
        except KeyError:
            raise StripeFakeError(
                404,
                "invalid_request_error",
                f"No such payment_intent: '{intent_id}'",
                code="resource_missing",
                param="intent",
            ) from None

    def create_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        amount = _int_param(params, "amount", minimum=1)
        currency = str(params.get("currency") or "")
        if len(currency) != 3 or not currency.isalpha():
            raise _missing("currency") if not currency else _invalid("currency", currency)
        capture_method = str(params.get("capture_method") or "automatic_async")
        if capture_method not in CAPTURE_METHODS:
            raise _invalid("capture_method", capture_method)
        intent_id = _id("pi")
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "amount_capturable": 0,
            "capture_method": capture_method,
            "canceled_at": None,
            "cancellation_reason": None,
            "currency": currency.lower(),
            "status": "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{_id('s')[2:]}",
            "metadata": _dict_param(params, "metadata"),
            "description": params.get("description"),
            "automatic_payment_methods": _dict_param(params, "automatic_payment_methods") or None,
            "last_payment_error": None,
            "latest_charge": None,
            "payment_method": None,
            "created": int(time.time()),
            "livemode": False,
        }
        self.intents[intent_id] = intent
        return intent

    def settle(self, intent_id: str, outcome: Literal["succeeded", "failed"]) -> FakeEvent:
        """The guest's card: charged (or, with manual capture, authorised) or declined."""
        intent = self.intent(intent_id)
        if intent["status"] in ("succeeded", "canceled", "requires_capture"):
            raise _unexpected_state(intent, "confirmed", "requires_payment_method")
        if outcome == "succeeded" and intent["capture_method"] == "manual":
            intent.update(
                status="requires_capture",
                amount_capturable=intent["amount"],
                latest_charge=_id("ch"),
                last_payment_error=None,
            )
            event_type = "payment_intent.amount_capturable_updated"
        elif outcome == "succeeded":
            intent.update(
                status="succeeded",
                amount_received=intent["amount"],
                latest_charge=_id("ch"),
                last_payment_error=None,
            )
            event_type = "payment_intent.succeeded"
        else:
            intent.update(
                status="requires_payment_method",
                last_payment_error={
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "generic_decline",
                    "message": "Your card was declined.",
                },
            )
            event_type = "payment_intent.payment_failed"
        return self.new_event(event_type, intent)

    def capture(self, intent_id: str, params: dict[str, Any]) -> FakeEvent:
        """Take an authorised amount (all of it unless ``amount_to_capture`` says less; the rest
        is released, as Stripe does)."""
        intent = self.intent(intent_id)
        if intent["status"] != "requires_capture":
            raise _unexpected_state(intent, "captured", "requires_capture")
        amount = (
            _int_param(params, "amount_to_capture", minimum=1)
            if "amount_to_capture" in params
            else intent["amount_capturable"]
        )
        if amount > intent["amount_capturable"]:
            raise StripeFakeError(
                400,
                "invalid_request_error",
                f"The amount to capture ({amount}) is greater than the amount capturable "
                f"({intent['amount_capturable']}).",
                code="amount_too_large",
                param="amount_to_capture",
            )
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        return self.new_event("payment_intent.succeeded", intent)

    def cancel(self, intent_id: str, reason: str | None) -> FakeEvent:
        """Release an authorisation or void an unpaid PaymentIntent. ``automatic`` is the reason
        Stripe itself gives when an uncaptured authorisation lapses."""
        intent = self.intent(intent_id)
        if intent["status"] not in CANCELABLE:
            raise _unexpected_state(intent, "canceled", ", ".join(sorted(CANCELABLE)))
        if reason is not None and reason not in CANCELLATION_REASONS | {"automatic"}:
            raise _invalid("cancellation_reason", reason)
        intent.update(
            status="canceled",
            amount_capturable=0,
            canceled_at=int(time.time()),
            cancellation_reason=reason,
        )
        return self.new_event("payment_intent.canceled", intent)

    def deliver_later(self, event: FakeEvent) -> None:
        """Send the webhook after the current API call has answered."""
        task = asyncio.get_running_loop().create_task(self.deliver(event))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    def create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        intent_id = params.get("payment_intent")
        if not intent_id:
            raise _missing("payment_intent")
        intent = self.intent(str(intent_id))
        if intent["status"] != "succeeded":
            raise StripeFakeError(
                400,
                "invalid_request_error",
                "This PaymentIntent has no successful charge to refund.",
                code="charge_not_refundable",
            )
        remaining = intent["amount"] - self.refunded.get(intent["id"], 0)
        if remaining <= 0:
            raise StripeFakeError(
                400,
                "invalid_request_error",
                f"Charge {intent['latest_charge']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = _int_param(params, "amount", minimum=1) if "amount" in params else remaining
        if amount > remaining:
            raise StripeFakeError(
                400,
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded amount ({remaining}).",
                code="amount_too_large",
                param="amount",
            )
        self.refunded[intent["id"]] = self.refunded.get(intent["id"], 0) + amount
        refund = {
            "id": _id("re"),
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "charge": intent["latest_charge"],
            "status": "succeeded",
            "metadata": _dict_param(params, "metadata"),
            "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        return refund

    # --- webhooks --------------------------------------------------------------------------

    def new_event(self, event_type: str, obj: dict[str, Any]) -> FakeEvent:
        event_id = _id("evt")
        body: dict[str, Any] = {
            "id": event_id,
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "type": event_type,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": json.loads(json.dumps(obj))},
        }
        event = FakeEvent(body)
        self.events[event_id] = event
        return event

    async def deliver(self, event: FakeEvent, *, timestamp: int | None = None) -> Delivery:
        """POST the event, signed as Stripe signs it (``timestamp`` overrides the clock)."""
        url = self.config.webhook_url
        if not url:
            delivery = Delivery(time.time(), None, "no webhook URL configured")
            event.deliveries.append(delivery)
            return delivery
        payload = json.dumps(event.body, indent=2).encode()
        ts = int(time.time()) if timestamp is None else timestamp
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": _stripe_signature(self.config.webhook_secret, ts, payload),
        }
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.config.webhook_timeout_s, verify=_SSL_CONTEXT, trust_env=False
            )
        try:
            response = await self._client.post(url, content=payload, headers=headers)
            delivery = Delivery(time.time(), response.status_code)
        except httpx.HTTPError as exc:
            delivery = Delivery(time.time(), None, type(exc).__name__)
        event.deliveries.append(delivery)
        log.info(
            "stripe_fake_webhook",
            event_id=event.body["id"],
            type=event.body["type"],
            status=delivery.status_code,
            error=delivery.error,
        )
        return delivery


# --- form parameters ------------------------------------------------------------------------


def _unexpected_state(intent: dict[str, Any], action: str, allowed: str) -> StripeFakeError:
    return StripeFakeError(
        400,
        "invalid_request_error",
        f"This PaymentIntent could not be {action} because it has a status of "
        f"{intent['status']}. Only a PaymentIntent with one of the following statuses may be "
        f"{action}: {allowed}.",
        code="payment_intent_unexpected_state",
        payment_intent=json.loads(json.dumps(intent)),
    )


def _missing(param: str) -> StripeFakeError:
    return StripeFakeError(
        400,
        "invalid_request_error",
        f"Missing required param: {param}.",
        code="parameter_missing",
        param=param,
    )


def _invalid(param: str, value: Any) -> StripeFakeError:
    return StripeFakeError(
        400,
        "invalid_request_error",
        f"Invalid {param}: {str(value)[:50]}",
        code="parameter_invalid",
        param=param,
    )


def _int_param(params: dict[str, Any], name: str, *, minimum: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        raise _missing(name)
    if not isinstance(raw, str) or not raw.isdigit() or int(raw) < minimum:
        raise _invalid(name, raw)
    return int(raw)


def _dict_param(params: dict[str, Any], name: str) -> dict[str, str]:
    value = params.get(name, {})
    if not isinstance(value, dict):
        raise _invalid(name, value)
    return value


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``metadata[booking_id]=…`` → ``{"metadata": {"booking_id": …}}`` (one level, as used)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        name, bracket, rest = key.partition("[")
        if bracket and rest.endswith("]") and "[" not in rest:
            nested = out.setdefault(name, {})
            if not isinstance(nested, dict):
                raise _invalid(name, value)
            nested[rest[:-1]] = value
        else:
            out[key] = value
    return out


# --- HTTP -----------------------------------------------------------------------------------


class Complete(BaseModel):
    outcome: Literal["succeeded", "failed"] = "succeeded"
    deliver: bool = True


class Lapse(BaseModel):
    deliver: bool = True


class ConfigUpdate(BaseModel):
    webhook_url: str | None = None
    webhook_secret: str | None = None
    api_key: str | None = None


def _event_view(event: FakeEvent) -> dict[str, Any]:
    return {
        "event": event.body,
        "deliveries": [
            {"at": d.at, "status_code": d.status_code, "error": d.error} for d in event.deliveries
        ],
    }


def create_stripe_fake_app(fake: StripeFake | None = None) -> FastAPI:
    stripe = fake or StripeFake()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await stripe.close()

    app = FastAPI(
        title="Fake Stripe (PMS-Webapp sandbox)", redirect_slashes=False, lifespan=lifespan
    )
    app.state.stripe = stripe

    @app.exception_handler(StripeFakeError)
    async def _stripe_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StripeFakeError)
        return JSONResponse(exc.body, status_code=exc.status)

    def authenticate(authorization: Annotated[str | None, Header()] = None) -> None:
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not key:
            raise StripeFakeError(
                401,
                "invalid_request_error",
                "You did not provide an API key. Provide it as a Bearer token.",
            )
        if not hmac.compare_digest(key.encode(), stripe.config.api_key.encode()):
            raise StripeFakeError(
                401, "invalid_request_error", f"Invalid API Key provided: {key[:8]}****{key[-4:]}"
            )

    async def form_params(request: Request) -> list[tuple[str, str]]:
        body = (await request.body()).decode("utf-8", errors="replace")
        return parse_qsl(body, keep_blank_values=True)

    async def idempotent(
        request: Request,
        pairs: list[tuple[str, str]],
        action: Any,
    ) -> JSONResponse:
        key = request.headers.get("idempotency-key")
        endpoint = f"{request.method} {request.url.path}"
        stripe.requests.append({"endpoint": endpoint, "idempotency_key": key})
        if key is not None and key in stripe.idempotency:
            first_endpoint, first_pairs, status, body = stripe.idempotency[key]
            if first_endpoint != endpoint or sorted(first_pairs) != sorted(pairs):
                raise StripeFakeError(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                )
            return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true"})
        try:
            status, body = 200, await action(parse_form(pairs))
        except StripeFakeError as exc:
            if exc.status >= 500:
                raise
            status, body = exc.status, exc.body
        if key is not None:
            stripe.idempotency[key] = (endpoint, pairs, status, body)
        return JSONResponse(body, status_code=status)

    api = APIRouter(prefix="/v1", dependencies=[Depends(authenticate)])

    @api.post("/payment_intents")
    async def create_payment_intent(request: Request) -> JSONResponse:
        async def action(params: dict[str, Any]) -> dict[str, Any]:
            return stripe.create_intent(params)

        return await idempotent(request, await form_params(request), action)

    @api.get("/payment_intents/{intent_id}")
    async def retrieve_payment_intent(intent_id: str) -> dict[str, Any]:
        return stripe.intent(intent_id)

    @api.post("/payment_intents/{intent_id}/confirm")
    async def confirm_payment_intent(intent_id: str, request: Request) -> JSONResponse:
        async def action(params: dict[str, Any]) -> dict[str, Any]:
            method = str(params.get("payment_method") or "pm_card_visa")
            declined = method in DECLINING_METHODS
            event = stripe.settle(intent_id, "failed" if declined else "succeeded")
            stripe.intents[intent_id]["payment_method"] = method
            await stripe.deliver(event)
            intent = stripe.intents[intent_id]
            if declined:
                raise StripeFakeError(
                    402,
                    "card_error",
                    "Your card was declined.",
                    code="card_declined",
                    decline_code="generic_decline",
                    payment_intent=intent,
                )
            return intent

        return await idempotent(request, await form_params(request), action)

    @api.post("/payment_intents/{intent_id}/capture")
    async def capture_payment_intent(intent_id: str, request: Request) -> JSONResponse:
        async def action(params: dict[str, Any]) -> dict[str, Any]:
            stripe.deliver_later(stripe.capture(intent_id, params))
            return stripe.intents[intent_id]

        return await idempotent(request, await form_params(request), action)

    @api.post("/payment_intents/{intent_id}/cancel")
    async def cancel_payment_intent(intent_id: str, request: Request) -> JSONResponse:
        async def action(params: dict[str, Any]) -> dict[str, Any]:
            reason = params.get("cancellation_reason")
            if reason == "automatic":  # only Stripe itself cancels for that reason
                raise _invalid("cancellation_reason", reason)
            stripe.deliver_later(stripe.cancel(intent_id, str(reason) if reason else None))
            return stripe.intents[intent_id]

        return await idempotent(request, await form_params(request), action)

    @api.post("/refunds")
    async def create_refund(request: Request) -> JSONResponse:
        async def action(params: dict[str, Any]) -> dict[str, Any]:
            return stripe.create_refund(params)

        return await idempotent(request, await form_params(request), action)

    @api.get("/refunds/{refund_id}")
    async def retrieve_refund(refund_id: str) -> dict[str, Any]:
        try:
            return stripe.refunds[refund_id]
        except KeyError:
            raise StripeFakeError(
                404,
                "invalid_request_error",
                f"No such refund: '{refund_id}'",
                code="resource_missing",
            ) from None

    app.include_router(api)

    control = APIRouter(prefix="/control", tags=["control"])

    @control.post("/reset", summary="Forget every PaymentIntent, refund, event and key")
    async def reset() -> dict[str, str]:
        stripe.reset()
        return {"status": "reset"}

    @control.post("/config", summary="Set the webhook URL and secret, or the API key")
    async def configure(body: ConfigUpdate) -> dict[str, Any]:
        for name, value in body.model_dump(exclude_none=True).items():
            setattr(stripe.config, name, value)
        return {"webhook_url": stripe.config.webhook_url}

    @control.post(
        "/payment_intents/{intent_id}/complete",
        summary="Let the guest's payment succeed or fail, and send the webhook",
    )
    async def complete(intent_id: str, body: Complete) -> dict[str, Any]:
        event = stripe.settle(intent_id, body.outcome)
        if body.deliver:
            await stripe.deliver(event)
        return _event_view(event)

    @control.post(
        "/payment_intents/{intent_id}/lapse",
        summary="Let an uncaptured authorisation lapse (Stripe cancels it after 7 days)",
    )
    async def lapse(intent_id: str, body: Lapse) -> dict[str, Any]:
        intent = stripe.intent(intent_id)
        if intent["status"] != "requires_capture":
            raise _unexpected_state(intent, "left to lapse", "requires_capture")
        event = stripe.cancel(intent_id, "automatic")
        if body.deliver:
            await stripe.deliver(event)
        return _event_view(event)

    @control.get("/events", summary="Every event with its delivery attempts, oldest first")
    async def events() -> list[dict[str, Any]]:
        return [_event_view(e) for e in stripe.events.values()]

    @control.post("/events/{event_id}/resend", summary="Deliver an event again (a replay)")
    async def resend(event_id: str) -> dict[str, Any]:
        event = stripe.events.get(event_id)
        if event is None:
            raise StripeFakeError(404, "invalid_request_error", f"No such event: '{event_id}'")
        await stripe.deliver(event)
        return _event_view(event)

    @control.get("/refunds", summary="Every refund issued")
    async def refunds() -> list[dict[str, Any]]:
        return list(stripe.refunds.values())

    app.include_router(control)
    return app
