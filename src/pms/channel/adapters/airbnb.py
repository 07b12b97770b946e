"""Airbnb: OAuth2 per host, JSON calendar operations per listing, reservations with host
decisions on requests and alterations, and webhooks signed with HMAC-SHA256 over
``"<timestamp>." + raw body`` (the shapes are the sandbox's, see docs/sandbox/airbnb.md)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from pms.channel.adapters.base import (
    Batch,
    CredentialsRefused,
    Grant,
    InboundMessage,
    InboundReservation,
    InvalidWebhook,
    NightValues,
    PlatformError,
    RemoteListing,
    Run,
    TokenExpired,
    VerifiedWebhook,
)
from pms.core.errors import Unprocessable
from pms.core.money import minor_unit_exponent
from pms.settings import Settings

MAX_OPERATIONS = 100  # per call
MAX_DATES = 50  # date ranges per operation
READ_DAYS = 365  # the calendar read allows end - start <= 365 days
_STATUS = {
    "pending": "requested",
    "accepted": "confirmed",
    "denied": "declined",
    "expired": "expired",
    "cancelled": "cancelled",
}


_clients: dict[int, httpx.AsyncClient] = {}


def _client() -> httpx.AsyncClient:
    """One pooled client per event loop (a worker process runs one loop; building a client
    per call costs more CPU than the call: its TLS context alone is milliseconds)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(id(loop))
    if client is None or client.is_closed:
        for key in [k for k, c in _clients.items() if c.is_closed]:
            del _clients[key]
        client = _clients[id(loop)] = httpx.AsyncClient()
    return client


def _minor(amount: str, currency: str) -> int:
    return int(Decimal(amount).scaleb(minor_unit_exponent(currency)))


def _amount(minor: int, currency: str) -> str:
    return f"{Decimal(minor).scaleb(-minor_unit_exponent(currency)):f}"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _error(response: httpx.Response, what: str) -> PlatformError:
    try:
        body = response.json()
        kind = str(body.get("error_type") or body.get("error") or "")
        detail = str(body.get("error_message") or body.get("error_description") or kind)
    except (ValueError, AttributeError):
        kind, detail = "", response.reason_phrase
    message = f"Airbnb {what}: {response.status_code} {detail}"[:500]
    status = response.status_code
    if kind in ("invalid_grant", "invalid_client"):
        return CredentialsRefused(message, status=status)
    if status == 401:
        return TokenExpired(message, status=status)
    if status == 429:
        return PlatformError(
            message, status=status, retryable=True, retry_after=_retry_after(response)
        )
    return PlatformError(message, status=status, retryable=status >= 500)


def _operation(run_dates: list[str], values: NightValues, currency: str) -> dict[str, Any]:
    op: dict[str, Any] = {"dates": run_dates}
    if values.available is not None:
        op["availability"] = "available" if values.available else "unavailable"
    if values.price_minor is not None:
        op["daily_price"] = _amount(values.price_minor, currency)
    if values.min_stay is not None:
        op["min_nights"] = values.min_stay
    if values.max_stay is not None or values.min_stay is not None:
        # Restrictions are synced (min stay is then always set): no maximum is sent as null,
        # which clears one set before.
        op["max_nights"] = values.max_stay
    if values.closed_to_arrival is not None:
        op["closed_to_arrival"] = values.closed_to_arrival
    if values.closed_to_departure is not None:
        op["closed_to_departure"] = values.closed_to_departure
    return op


def _span(run: Run) -> str:
    last = run.end - timedelta(days=1)
    return run.start.isoformat() if last == run.start else f"{run.start}:{last}"


def reservation(data: Mapping[str, Any]) -> InboundReservation:
    currency = str(data["currency"])
    alteration = data.get("pending_alteration")
    expires = data.get("expires_at")
    guest = data.get("guest") or {}
    guests = data.get("guests") or {}
    return InboundReservation(
        code=str(data["confirmation_code"]),
        listing_id=str(data["listing_id"]),
        status=_STATUS[str(data["status"])],
        check_in=date.fromisoformat(data["start_date"]),
        check_out=date.fromisoformat(data["end_date"]),
        adults=int(guests.get("adults", 1)),
        children=int(guests.get("children", 0)),
        first_name=str(guest.get("first_name") or "Airbnb"),
        last_name=str(guest.get("last_name") or "Guest"),
        nightly_price_minor=_minor(data["nightly_price"], currency),
        total_minor=_minor(data["total_price"], currency),
        currency=currency,
        expires_at=datetime.fromisoformat(expires) if expires else None,
        pending_alteration_id=str(alteration["id"]) if alteration else None,
        raw=dict(data),
    )


class AirbnbAdapter:
    platform = "airbnb"
    window_days = 365

    def __init__(self, settings: Settings) -> None:
        self.base = settings.airbnb_api_base.rstrip("/")
        self.client_id = settings.airbnb_client_id
        self.client_secret = settings.airbnb_client_secret
        self.webhook_secret = settings.airbnb_webhook_secret
        self.tolerance = settings.channel_webhook_tolerance_seconds
        self.timeout = settings.channel_http_timeout_seconds

    # --- HTTP --------------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        what: str,
        credentials: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        headers = {}
        if credentials is not None:
            headers["Authorization"] = f"Bearer {credentials['access_token']}"
        try:
            response = await _client().request(
                method, f"{self.base}{path}", headers=headers, timeout=self.timeout, **kwargs
            )
        except httpx.TimeoutException:
            raise PlatformError(f"Airbnb {what}: timed out", retryable=True) from None
        except httpx.TransportError as exc:
            raise PlatformError(f"Airbnb {what}: {type(exc).__name__}", retryable=True) from None
        if not response.is_success:
            raise _error(response, what)
        try:
            return response.json()
        except ValueError:
            raise PlatformError(f"Airbnb {what}: not a JSON answer", retryable=True) from None

    async def _token(self, form: dict[str, str]) -> Grant:
        body = await self._request(
            "POST",
            "/oauth2/v1/token",
            "token",
            data={
                **form,
                "client_id": self.client_id,
                "client_secret": self.client_secret.get_secret_value(),
            },
        )
        try:
            expires = datetime.now(UTC) + timedelta(seconds=int(body.get("expires_in", 3600)))
            return Grant(
                account_id=str(body["user_id"]),
                credentials={
                    "access_token": body["access_token"],
                    "refresh_token": body["refresh_token"],
                    "expires_at": expires.isoformat(),
                },
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            # Whatever answered is not Airbnb's token endpoint: a platform failure, not ours.
            raise PlatformError("Airbnb token: an answer without a token") from None

    # --- accounts ----------------------------------------------------------------------------

    async def exchange_code(self, code: str) -> Grant:
        return await self._token({"grant_type": "authorization_code", "code": code})

    async def refresh(self, credentials: Mapping[str, Any]) -> Grant:
        return await self._token(
            {"grant_type": "refresh_token", "refresh_token": str(credentials["refresh_token"])}
        )

    async def check_credentials(self, credentials: Mapping[str, Any]) -> Grant:
        if not credentials.get("access_token"):
            raise Unprocessable(
                "Airbnb credentials need an access_token (or connect with an authorization_code).",
                errors=[{"field": "credentials.access_token", "in": "body", "message": "required"}],
            )
        await self.list_listings(credentials)
        return Grant(account_id="", credentials=dict(credentials))

    async def list_listings(self, credentials: Mapping[str, Any]) -> list[RemoteListing]:
        body = await self._request("GET", "/v2/listings", "listings", credentials)
        return [
            RemoteListing(id=str(x["id"]), currency=str(x["currency"]), name=x.get("name"))
            for x in body["listings"]
        ]

    # --- ARI ---------------------------------------------------------------------------------

    def batches(self, runs: Sequence[Run]) -> list[Batch]:
        """Runs with equal values share an operation (up to 50 date ranges each); up to 100
        operations per call. A 365-night change with a different price every night is
        ⌈365 / 100⌉ = 4 calls."""
        groups: dict[NightValues, list[Run]] = {}
        for run in runs:
            groups.setdefault(run.values, []).append(run)
        ops: list[tuple[Run, ...]] = []
        for same in groups.values():
            for i in range(0, len(same), MAX_DATES):
                ops.append(tuple(same[i : i + MAX_DATES]))
        ops.sort(key=lambda op: op[0].start)
        out = []
        for i in range(0, len(ops), MAX_OPERATIONS):
            chunk = ops[i : i + MAX_OPERATIONS]
            out.append(Batch(runs=tuple(r for op in chunk for r in op)))
        return out

    async def push_ari(
        self, credentials: Mapping[str, Any], listing_id: str, currency: str, batch: Batch
    ) -> None:
        groups: dict[NightValues, list[str]] = {}
        for run in batch.runs:
            groups.setdefault(run.values, []).append(_span(run))
        operations = []
        for values, spans in groups.items():
            for i in range(0, len(spans), MAX_DATES):
                operations.append(_operation(spans[i : i + MAX_DATES], values, currency))
        await self._request(
            "POST",
            "/v2/calendar_operations",
            "calendar update",
            credentials,
            json={"listing_id": listing_id, "operations": operations},
        )

    async def read_back(
        self, credentials: Mapping[str, Any], listing_id: str, currency: str, start: date, end: date
    ) -> dict[date, tuple[NightValues, str | None]]:
        out: dict[date, tuple[NightValues, str | None]] = {}
        day = start
        while day < end:
            last = min(end - timedelta(days=1), day + timedelta(days=READ_DAYS - 1))
            body = await self._request(
                "GET",
                f"/v2/calendars/{listing_id}",
                "calendar read",
                credentials,
                params={"start_date": day.isoformat(), "end_date": last.isoformat()},
            )
            for d in body["days"]:
                out[date.fromisoformat(d["date"])] = (
                    NightValues(
                        available=d["availability"] == "available",
                        price_minor=_minor(d["daily_price"], currency),
                        min_stay=d["min_nights"],
                        max_stay=d["max_nights"],
                        closed_to_arrival=d["closed_to_arrival"],
                        closed_to_departure=d["closed_to_departure"],
                    ),
                    d.get("reservation_code"),
                )
            day = last + timedelta(days=1)
        return out

    # --- reservations ------------------------------------------------------------------------

    async def pull_bookings(
        self, credentials: Mapping[str, Any], listing_id: str
    ) -> list[InboundReservation]:
        body = await self._request(
            "GET",
            "/v2/reservations",
            "reservations",
            credentials,
            params={"listing_id": listing_id},
        )
        return [reservation(r) for r in body["reservations"]]

    async def ack(self, credentials: Mapping[str, Any], message: InboundMessage) -> None:
        """Airbnb webhooks have no acknowledgement beyond our 2xx answer."""

    async def accept(self, credentials: Mapping[str, Any], code: str) -> None:
        await self._request("POST", f"/v2/reservations/{code}/accept", "accept", credentials)

    async def decline(self, credentials: Mapping[str, Any], code: str) -> None:
        await self._request("POST", f"/v2/reservations/{code}/decline", "decline", credentials)

    async def decide_alteration(
        self, credentials: Mapping[str, Any], alteration_id: str, accept: bool
    ) -> None:
        decision = "accept" if accept else "decline"
        await self._request(
            "POST", f"/v2/alterations/{alteration_id}/{decision}", "alteration", credentials
        )

    # --- webhooks ----------------------------------------------------------------------------

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> VerifiedWebhook:
        stamp = headers.get("x-airbnb-timestamp")
        signature = headers.get("x-airbnb-signature")
        event_id = headers.get("x-airbnb-event-id")
        if not stamp or not signature or not event_id:
            raise InvalidWebhook("missing X-Airbnb-Timestamp, -Signature or -Event-Id")
        try:
            sent = int(stamp)
        except ValueError:
            raise InvalidWebhook("X-Airbnb-Timestamp is not a number") from None
        if abs(now.timestamp() - sent) > self.tolerance:
            raise InvalidWebhook("timestamp outside the tolerance")
        expected = hmac.new(
            self.webhook_secret.get_secret_value().encode(),
            f"{sent}.".encode() + body,
            hashlib.sha256,
        ).hexdigest()
        given = [part[3:] for part in signature.split(",") if part.strip().startswith("v1=")]
        if not any(hmac.compare_digest(expected, g.strip()) for g in given):
            raise InvalidWebhook("signature does not match")
        try:
            payload = json.loads(body)
            event_type = str(payload["event_type"])
            if str(payload["event_id"]) != event_id:
                raise InvalidWebhook("event id header and body differ")
        except (ValueError, KeyError, TypeError):
            raise InvalidWebhook("body is not an Airbnb event") from None
        return VerifiedWebhook(message_id=event_id, event_type=event_type)

    def parse_message(self, body: bytes) -> InboundMessage:
        payload = json.loads(body)
        data = payload.get("data") or {}
        res = data.get("reservation")
        return InboundMessage(
            message_id=str(payload["event_id"]),
            event_type=str(payload["event_type"]),
            occurred_at=datetime.fromisoformat(payload["created_at"]),
            reservation=reservation(res) if res else None,
        )
