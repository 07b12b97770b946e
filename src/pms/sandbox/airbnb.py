"""Airbnb simulator. Airbnb's partner API is not public, so this module *defines* the shape
[GUESS throughout, see docs/sandbox/airbnb.md]; everything about that shape lives here so it can
be swapped when the real one is known: OAuth2 tokens per host, JSON calendar operations per
listing, reservations, host decisions on requests and alterations within 24 h, and webhooks
signed with HMAC-SHA256 over ``"<timestamp>." + raw body``.
"""

from __future__ import annotations

import itertools
import secrets
import string
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Form, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pms.sandbox.accounts import PerAccount
from pms.sandbox.clock import SimClock
from pms.sandbox.control import ControlError, GuestBooking, GuestChange
from pms.sandbox.days import Calendar, DayView, newer, nights, stay_nights
from pms.sandbox.faults import FaultInjection, Faults
from pms.sandbox.ratelimit import SlidingWindow
from pms.sandbox.webhooks import WebhookConfig, WebhookSender

DECISION_WINDOW = timedelta(hours=24)
TOKEN_LIFETIME = timedelta(hours=1)
MAX_OPERATIONS = 100
MAX_DAYS_AHEAD = 3 * 366
CLIENT_ID, CLIENT_SECRET = "sandbox-airbnb-client", "sandbox-airbnb-secret"
AuthHeader = Annotated[str | None, Header(alias="Authorization")]
ReservationStatus = Literal["pending", "accepted", "denied", "expired", "cancelled"]


class AirbnbError(Exception):
    def __init__(
        self, status: int, error_type: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message
        self.headers = headers or {}


def _error(
    status: int, error_type: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error_code": status, "error_type": error_type, "error_message": message}
    return JSONResponse(body, status, headers)


# --- the wire shapes --------------------------------------------------------------------------


class CalendarOperation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # "YYYY-MM-DD" or "YYYY-MM-DD:YYYY-MM-DD" (both ends are nights, inclusive)
    dates: list[str] = Field(min_length=1, max_length=50)
    availability: Literal["available", "unavailable"] | None = None
    daily_price: Decimal | None = Field(default=None, gt=0, le=25_000, decimal_places=2)
    min_nights: int | None = Field(default=None, ge=1, le=1125)
    max_nights: int | None = Field(default=None, ge=1, le=1125)
    closed_to_arrival: bool | None = None
    closed_to_departure: bool | None = None

    @field_validator("dates")
    @classmethod
    def _ranges(cls, value: list[str]) -> list[str]:
        for item in value:
            start, _, end = item.partition(":")
            first, last = date.fromisoformat(start), date.fromisoformat(end or start)
            if last < first:
                raise ValueError(f"{item}: the range ends before it starts")
        return value

    @model_validator(mode="after")
    def _sets_something(self) -> CalendarOperation:
        fields = self.model_fields_set - {"dates"}
        if not fields:
            raise ValueError("an operation must set at least one field besides dates")
        if self.min_nights and self.max_nights and self.max_nights < self.min_nights:
            raise ValueError("max_nights must not be below min_nights")
        return self

    def spans(self) -> list[tuple[date, date]]:
        out = []
        for item in self.dates:
            start, _, end = item.partition(":")
            out.append((date.fromisoformat(start), date.fromisoformat(end or start)))
        return out


class CalendarOperations(BaseModel):
    model_config = ConfigDict(extra="forbid")

    listing_id: str
    operations: list[CalendarOperation] = Field(min_length=1, max_length=MAX_OPERATIONS)


class NewHost(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host_id: str | None = Field(default=None, pattern=r"^[0-9]{1,12}$")
    listings: int = Field(default=1, ge=0, le=5000)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")


class WebhookSettings(BaseModel):
    url: str | None = None
    secret: str = Field(default="sandbox-airbnb-webhook-secret", min_length=8)
    max_attempts: int = Field(default=6, ge=1, le=20)
    backoff_base_s: float = Field(default=1.0, gt=0, le=600)
    timeout_s: float = Field(default=10.0, gt=0, le=60)


# --- state ------------------------------------------------------------------------------------


@dataclass
class Listing:
    id: str
    host_id: str
    currency: str = "EUR"
    default_price: Decimal = Decimal("100.00")


@dataclass
class Token:
    host_id: str
    expires_at: datetime


@dataclass
class Alteration:
    id: str
    reservation_code: str
    start_date: date
    end_date: date
    adults: int
    children: int
    nightly_price: Decimal
    expires_at: datetime
    status: Literal["pending", "accepted", "declined", "expired"] = "pending"

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reservation_code": self.reservation_code,
            "status": self.status,
            "proposed": {
                "start_date": self.start_date.isoformat(),
                "end_date": self.end_date.isoformat(),
                "guests": {"adults": self.adults, "children": self.children},
            },
            "expires_at": self.expires_at.isoformat(),
        }


@dataclass
class Reservation:
    code: str
    listing_id: str
    start_date: date
    end_date: date
    adults: int
    children: int
    first_name: str
    last_name: str
    nightly_price: Decimal
    currency: str
    status: ReservationStatus
    created_at: datetime
    expires_at: datetime | None = None
    alterations: list[Alteration] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.nightly_price * len(stay_nights(self.start_date, self.end_date))

    def view(self) -> dict[str, Any]:
        return {
            "confirmation_code": self.code,
            "listing_id": self.listing_id,
            "status": self.status,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "nights": len(stay_nights(self.start_date, self.end_date)),
            "guests": {"adults": self.adults, "children": self.children},
            "guest": {"first_name": self.first_name, "last_name": self.last_name[:1] + "."},
            "nightly_price": f"{self.nightly_price:.2f}",
            "total_price": f"{self.total:.2f}",
            "currency": self.currency,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "pending_alteration": next(
                (a.view() for a in self.alterations if a.status == "pending"), None
            ),
        }

    @property
    def occupies(self) -> bool:
        # A pending request holds the dates while the host decides.
        return self.status in ("pending", "accepted")


class AirbnbSimulator:
    name = "airbnb"

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.faults = Faults()
        self.webhooks = WebhookSender(self.faults, clock, "X-Airbnb")
        self.reset()

    def reset(self) -> None:
        self.listings = {
            lst.id: lst
            for lst in (
                Listing("50001", "1001"),
                Listing("50002", "1001"),
                Listing("59999", "1002"),
            )
        }
        # one authorization code per host, as if each host had gone through the consent screen
        self.codes: dict[str, str] = {"code-host-1001": "1001", "code-host-1002": "1002"}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.calendar = Calendar()
        # Every price written, with the wall-clock time (for latency measurements).
        self.price_log: deque[tuple[int, str, str, str, float]] = deque(maxlen=500_000)
        self._price_seq = itertools.count(1)
        self.reservations: dict[str, Reservation] = {}
        self._alteration_ids = itertools.count(1)
        # Event ids are never reused, not even after a reset: a PMS that stored one keeps
        # treating it as a duplicate, as it would on the platform.
        self._event_ids: itertools.count[int] = getattr(self, "_event_ids", itertools.count(1))
        self.limiter = SlidingWindow(300, 60.0, self.clock.seconds)
        # Per-account (host) overrides set through the control API (else the sandbox-wide ones).
        self.overrides = PerAccount(self.clock.seconds)
        self._host_ids = itertools.count(2001)
        self._listing_ids = itertools.count(60001)
        self.faults.clear()
        self.webhooks.reset()

    def webhook_target(self) -> dict[str, Any]:
        c = self.webhooks.config
        return {
            "delivery": "webhook",
            "url": c.url,
            "secret_set": bool(c.secret),
            "max_attempts": c.max_attempts,
            "backoff_base_s": c.backoff_base_s,
            "timeout_s": c.timeout_s,
        }

    # --- auth -----------------------------------------------------------------------------

    def issue(self, host_id: str) -> dict[str, Any]:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.tokens[access] = Token(host_id, self.clock.now() + TOKEN_LIFETIME)
        self.refresh_tokens[refresh] = host_id
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": int(TOKEN_LIFETIME.total_seconds()),
            "refresh_token": refresh,
            "user_id": host_id,
        }

    def host_of(self, authorization: str | None) -> str:
        scheme, _, value = (authorization or "").partition(" ")
        token = self.tokens.get(value) if scheme.lower() == "bearer" else None
        if token is None or self.faults.credentials_expired:
            raise AirbnbError(401, "invalid_token", "The access token is invalid or expired")
        if token.expires_at <= self.clock.now():
            raise AirbnbError(401, "invalid_token", "The access token has expired")
        if (wait := self.overrides.hit(token.host_id, self.limiter)) is not None:
            raise AirbnbError(429, "rate_limited", "Too many requests", {"Retry-After": str(wait)})
        return token.host_id

    async def authorize(self, authorization: str | None, method: str, path: str) -> str:
        """``host_of`` plus the faults set for this host's account (if any)."""
        host = self.host_of(authorization)
        injected = await self.overrides.fault(host, method, path)
        if injected is None:
            return host
        if injected.status == 401:
            raise AirbnbError(401, "invalid_token", "The access token is invalid or expired")
        if injected.status == 429:
            raise AirbnbError(
                429,
                "rate_limited",
                injected.message,
                {"Retry-After": str(injected.retry_after_s)},
            )
        raise AirbnbError(injected.status, "server_error", injected.message)

    def add_host(self, listings: int, currency: str, host_id: str | None) -> dict[str, Any]:
        """A new host with ``listings`` listings and an authorization code (control API)."""
        host = host_id or str(next(self._host_ids))
        if any(lst.host_id == host for lst in self.listings.values()):
            raise ControlError(409, f"host {host} exists")
        ids = []
        for _ in range(listings):
            listing_id = str(next(self._listing_ids))
            self.listings[listing_id] = Listing(listing_id, host, currency)
            ids.append(listing_id)
        code = f"code-host-{host}"
        self.codes[code] = host
        return {"host_id": host, "authorization_code": code, "listings": ids}

    def owned(self, host_id: str, listing_id: str) -> Listing:
        listing = self.listings.get(listing_id)
        if listing is None:
            raise AirbnbError(404, "not_found", f"No listing {listing_id}")
        if listing.host_id != host_id:
            raise AirbnbError(403, "forbidden", f"Listing {listing_id} is not yours")
        return listing

    # --- calendar -------------------------------------------------------------------------

    def apply(self, ops: CalendarOperations) -> int:
        today = self.clock.now().date()
        spans = [(op, span) for op in ops.operations for span in op.spans()]
        for _, (start, end) in spans:
            if start < today - timedelta(days=1) or end > today + timedelta(MAX_DAYS_AHEAD):
                raise AirbnbError(
                    400, "invalid_request", f"{start}..{end} is outside the bookable window"
                )
        for op, (start, end) in spans:
            for night in nights(start, end):
                day = self.calendar.day((ops.listing_id, "", ""), night)
                if op.availability is not None:
                    day.closed = op.availability == "unavailable"
                if op.daily_price is not None:
                    if day.price != op.daily_price:
                        self.price_log.append(
                            (
                                next(self._price_seq),
                                ops.listing_id,
                                night.isoformat(),
                                f"{op.daily_price:.2f}",
                                time.time(),
                            )
                        )
                    day.price = op.daily_price
                if "min_nights" in op.model_fields_set:
                    day.min_stay = op.min_nights
                if "max_nights" in op.model_fields_set:
                    day.max_stay = op.max_nights
                if op.closed_to_arrival is not None:
                    day.closed_to_arrival = op.closed_to_arrival
                if op.closed_to_departure is not None:
                    day.closed_to_departure = op.closed_to_departure
        return len(spans)

    def _booked(self, listing_id: str, night: date, ignore: str | None = None) -> str | None:
        for res in self.reservations.values():
            if (
                res.listing_id == listing_id
                and res.occupies
                and res.code != ignore
                and res.start_date <= night < res.end_date
            ):
                return res.code
        return None

    def calendar_days(self, listing: Listing, start: date, end: date) -> list[dict[str, Any]]:
        out = []
        for night in nights(start, end):
            day = self.calendar.get((listing.id, "", ""), night)
            code = self._booked(listing.id, night)
            out.append(
                {
                    "date": night.isoformat(),
                    # [GUESS] a night nobody opened is available at the listing's default price
                    "availability": "unavailable" if code or (day and day.closed) else "available",
                    "daily_price": f"{self._price(listing, night):.2f}",
                    "min_nights": day.min_stay if day else None,
                    "max_nights": day.max_stay if day else None,
                    "closed_to_arrival": bool(day and day.closed_to_arrival),
                    "closed_to_departure": bool(day and day.closed_to_departure),
                    "reservation_code": code,
                }
            )
        return out

    def days(self, listing_id: str, start: date, end: date) -> list[DayView]:
        listing = self.listings.get(listing_id)
        if listing is None:
            raise ControlError(404, f"no listing {listing_id}")
        return [
            DayView(
                date=date.fromisoformat(d["date"]),
                available=d["availability"] == "available",
                units=0 if d["availability"] == "unavailable" else 1,
                price=Decimal(d["daily_price"]),
                currency=listing.currency,
                min_stay=d["min_nights"],
                max_stay=d["max_nights"],
                closed_to_arrival=d["closed_to_arrival"],
                closed_to_departure=d["closed_to_departure"],
            )
            for d in self.calendar_days(listing, start, end)
        ]

    def _bookable(self, listing: Listing, start: date, end: date, ignore: str | None) -> bool:
        stay = stay_nights(start, end)
        for night in stay:
            day = self.calendar.get((listing.id, "", ""), night)
            if (day and day.closed) or self._booked(listing.id, night, ignore):
                return False
        first = self.calendar.get((listing.id, "", ""), start)
        last = self.calendar.get((listing.id, "", ""), end)
        if first and (
            first.closed_to_arrival
            or (first.min_stay and len(stay) < first.min_stay)
            or (first.max_stay and len(stay) > first.max_stay)
        ):
            return False
        return not (last and last.closed_to_departure)

    def _price(self, listing: Listing, night: date) -> Decimal:
        day = self.calendar.get((listing.id, "", ""), night)
        return day.price if day and day.price else listing.default_price

    # --- reservations and decisions -------------------------------------------------------

    def _emit(self, event_type: str, data: dict[str, Any]) -> None:
        event_id = f"evt_{next(self._event_ids):08d}"
        self.webhooks.emit(
            event_id,
            event_type,
            {
                "event_id": event_id,
                "event_type": event_type,
                "created_at": self.clock.now().isoformat(),
                "data": data,
            },
        )

    def sweep(self) -> None:
        """Requests and alterations left undecided past their deadline expire."""
        now = self.clock.now()
        for res in self.reservations.values():
            if res.status == "pending" and res.expires_at and res.expires_at <= now:
                res.status = "expired"
                self._emit("reservation.expired", {"reservation": res.view()})
            for alt in res.alterations:
                if alt.status == "pending" and alt.expires_at <= now:
                    alt.status = "expired"
                    self._emit(
                        "alteration.expired", {"alteration": alt.view(), "reservation": res.view()}
                    )

    def reservation_for(self, host_id: str, code: str) -> Reservation:
        self.sweep()
        res = self.reservations.get(code)
        if res is None:
            raise AirbnbError(404, "not_found", f"No reservation {code}")
        self.owned(host_id, res.listing_id)
        return res

    def decide(self, host_id: str, code: str, accept: bool) -> Reservation:
        res = self.reservation_for(host_id, code)
        if res.status != "pending":
            raise AirbnbError(
                409, "invalid_state", f"Reservation {code} is {res.status}, not pending"
            )
        res.status = "accepted" if accept else "denied"
        res.expires_at = None
        self._emit(
            "reservation.accepted" if accept else "reservation.denied", {"reservation": res.view()}
        )
        return res

    def decide_alteration(self, host_id: str, alteration_id: str, accept: bool) -> Alteration:
        self.sweep()
        for res in self.reservations.values():
            for alt in res.alterations:
                if alt.id != alteration_id:
                    continue
                self.owned(host_id, res.listing_id)
                if alt.status != "pending":
                    raise AirbnbError(
                        409, "invalid_state", f"Alteration {alteration_id} is {alt.status}"
                    )
                if accept:
                    listing = self.listings[res.listing_id]
                    if not self._bookable(listing, alt.start_date, alt.end_date, res.code):
                        raise AirbnbError(
                            409, "unavailable", "The altered dates are no longer available"
                        )
                    res.start_date, res.end_date = alt.start_date, alt.end_date
                    res.adults, res.children = alt.adults, alt.children
                    res.nightly_price = alt.nightly_price
                alt.status = "accepted" if accept else "declined"
                self._emit(
                    "alteration.accepted" if accept else "alteration.declined",
                    {"alteration": alt.view(), "reservation": res.view()},
                )
                return alt
        raise AirbnbError(404, "not_found", f"No alteration {alteration_id}")

    async def create_booking(self, booking: GuestBooking) -> dict[str, Any]:
        self.sweep()
        listing = self.listings.get(booking.listing_id)
        if listing is None:
            raise ControlError(404, f"no listing {booking.listing_id}")
        if not booking.force and not self._bookable(
            listing, booking.arrival, booking.departure, None
        ):
            raise ControlError(409, "the nights are not bookable on Airbnb")
        code = "HM" + "".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8)
        )
        now = self.clock.now()
        res = Reservation(
            code=code,
            listing_id=listing.id,
            start_date=booking.arrival,
            end_date=booking.departure,
            adults=booking.adults,
            children=booking.children,
            first_name=booking.first_name,
            last_name=booking.last_name,
            nightly_price=booking.price_per_night or self._price(listing, booking.arrival),
            currency=listing.currency,
            status="pending" if booking.request else "accepted",
            created_at=now,
            expires_at=now + DECISION_WINDOW if booking.request else None,
        )
        self.reservations[code] = res
        self._emit(
            "reservation.requested" if booking.request else "reservation.created",
            {"reservation": res.view()},
        )
        return {"id": code, **res.view()}

    async def modify_booking(self, booking_id: str, change: GuestChange) -> dict[str, Any]:
        self.sweep()
        res = self.reservations.get(booking_id)
        if res is None:
            raise ControlError(404, f"no reservation {booking_id}")
        if res.status != "accepted":
            raise ControlError(409, f"reservation {booking_id} is {res.status}")
        start, end = change.arrival or res.start_date, change.departure or res.end_date
        if end <= start:
            raise ControlError(422, "departure must be after arrival")
        listing = self.listings[res.listing_id]
        if not self._bookable(listing, start, end, res.code):
            raise ControlError(409, "the changed stay is not bookable on Airbnb")
        price = change.price_per_night or res.nightly_price
        adults = change.adults or res.adults
        children = res.children if change.children is None else change.children
        if change.request:
            alt = Alteration(
                f"ALT{next(self._alteration_ids):06d}",
                res.code,
                start,
                end,
                adults,
                children,
                price,
                self.clock.now() + DECISION_WINDOW,
            )
            res.alterations.append(alt)
            self._emit(
                "alteration.requested", {"alteration": alt.view(), "reservation": res.view()}
            )
            return {"id": res.code, "alteration_id": alt.id, **res.view()}
        res.start_date, res.end_date, res.adults, res.children = start, end, adults, children
        res.nightly_price = price
        self._emit("reservation.updated", {"reservation": res.view()})
        return {"id": res.code, **res.view()}

    async def cancel_booking(self, booking_id: str) -> dict[str, Any]:
        self.sweep()
        res = self.reservations.get(booking_id)
        if res is None:
            raise ControlError(404, f"no reservation {booking_id}")
        if not res.occupies:
            raise ControlError(409, f"reservation {booking_id} is {res.status}")
        res.status = "cancelled"
        res.expires_at = None
        self._emit("reservation.cancelled", {"reservation": res.view()})
        return {"id": res.code, **res.view()}


# --- HTTP -------------------------------------------------------------------------------------


def create_airbnb_app(sim: AirbnbSimulator) -> Any:
    app = FastAPI(title="Airbnb (sandbox)", redirect_slashes=False, openapi_url=None)

    @app.exception_handler(AirbnbError)
    async def airbnb_error(_: Request, exc: AirbnbError) -> Response:
        return _error(exc.status, exc.error_type, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> Response:
        details = [
            {"field": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"]}
            for e in exc.errors()
        ]
        return JSONResponse(
            {
                "error_code": 400,
                "error_type": "invalid_request",
                "error_message": "The request does not match the schema",
                "errors": details,
            },
            400,
        )

    @app.post("/oauth2/v1/token")
    async def token(
        grant_type: Annotated[str, Form()],
        client_id: Annotated[str, Form()],
        client_secret: Annotated[str, Form()],
        code: Annotated[str | None, Form()] = None,
        refresh_token: Annotated[str | None, Form()] = None,
    ) -> Response:
        if client_id != CLIENT_ID or not secrets.compare_digest(client_secret, CLIENT_SECRET):
            return JSONResponse({"error": "invalid_client"}, 401)
        if sim.faults.credentials_expired:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "the grant has expired"}, 400
            )
        if grant_type == "authorization_code" and code in sim.codes:
            return JSONResponse(sim.issue(sim.codes[code]))
        if grant_type == "refresh_token" and refresh_token in sim.refresh_tokens:
            return JSONResponse(sim.issue(sim.refresh_tokens.pop(refresh_token)))
        if grant_type not in ("authorization_code", "refresh_token"):
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        return JSONResponse({"error": "invalid_grant"}, 400)

    @app.get("/v2/listings")
    async def listings(request: Request, authorization: AuthHeader = None) -> dict[str, Any]:
        host = await sim.authorize(authorization, request.method, request.url.path)
        return {
            "listings": [
                {"id": lst.id, "currency": lst.currency}
                for lst in sim.listings.values()
                if lst.host_id == host
            ]
        }

    @app.post("/v2/calendar_operations")
    async def calendar_operations(
        request: Request, ops: CalendarOperations, authorization: AuthHeader = None
    ) -> dict[str, Any]:
        host = await sim.authorize(authorization, request.method, request.url.path)
        sim.owned(host, ops.listing_id)
        return {"listing_id": ops.listing_id, "operations_applied": sim.apply(ops)}

    @app.get("/v2/calendars/{listing_id}")
    async def calendar(
        request: Request,
        listing_id: str,
        start_date: Annotated[date, Query()],
        end_date: Annotated[date, Query()],
        authorization: AuthHeader = None,
    ) -> dict[str, Any]:
        listing = sim.owned(
            await sim.authorize(authorization, request.method, request.url.path), listing_id
        )
        if end_date < start_date or (end_date - start_date).days > 365:
            raise AirbnbError(400, "invalid_request", "end_date: on or after start_date, <1 year")
        return {"listing_id": listing_id, "days": sim.calendar_days(listing, start_date, end_date)}

    @app.get("/v2/reservations")
    async def reservations(
        request: Request,
        listing_id: Annotated[str, Query()],
        status: Annotated[ReservationStatus | None, Query()] = None,
        authorization: AuthHeader = None,
    ) -> dict[str, Any]:
        sim.owned(await sim.authorize(authorization, request.method, request.url.path), listing_id)
        sim.sweep()
        found = [
            r.view()
            for r in sim.reservations.values()
            if r.listing_id == listing_id and (status is None or r.status == status)
        ]
        return {"reservations": found}

    @app.get("/v2/reservations/{code}")
    async def reservation(
        request: Request, code: str, authorization: AuthHeader = None
    ) -> dict[str, Any]:
        return {
            "reservation": sim.reservation_for(
                await sim.authorize(authorization, request.method, request.url.path), code
            ).view()
        }

    @app.post("/v2/reservations/{code}/{decision}")
    async def decide(
        request: Request,
        code: str,
        decision: Literal["accept", "decline"],
        authorization: AuthHeader = None,
    ) -> dict[str, Any]:
        res = sim.decide(
            await sim.authorize(authorization, request.method, request.url.path),
            code,
            decision == "accept",
        )
        return {"reservation": res.view()}

    @app.post("/v2/alterations/{alteration_id}/{decision}")
    async def decide_alteration(
        request: Request,
        alteration_id: str,
        decision: Literal["accept", "decline"],
        authorization: AuthHeader = None,
    ) -> dict[str, Any]:
        alt = sim.decide_alteration(
            await sim.authorize(authorization, request.method, request.url.path),
            alteration_id,
            decision == "accept",
        )
        return {"alteration": alt.view()}

    def render_fault(status: int, message: str) -> tuple[bytes, str]:
        return bytes(_error(status, "server_error", message).body), "application/json"

    return FaultInjection(app, sim.faults, render_fault)


def airbnb_control_router(sim: AirbnbSimulator) -> APIRouter:
    router = APIRouter(prefix="/control/airbnb", tags=["control: airbnb"])

    @router.put("/webhook", summary="Where (and with which secret) webhooks go")
    async def configure(settings: WebhookSettings) -> WebhookSettings:
        sim.webhooks.config = WebhookConfig(
            url=settings.url,
            secret=settings.secret,
            max_attempts=settings.max_attempts,
            backoff_base_s=settings.backoff_base_s,
            timeout_s=settings.timeout_s,
        )
        return settings

    @router.post("/hosts", status_code=201, summary="Create a host with listings and a code")
    async def create_host(body: NewHost) -> dict[str, Any]:
        try:
            return sim.add_host(body.listings, body.currency, body.host_id)
        except ControlError as exc:
            raise HTTPException(exc.status, exc.detail) from exc

    @router.get("/price-log", summary="Prices as they changed, with wall-clock times")
    async def price_log(since: int = 0) -> list[dict[str, Any]]:
        return [
            {"seq": n, "listing_id": lst, "date": night, "price": price, "at": at}
            for n, lst, night, price, at in newer(sim.price_log, since)
        ]

    @router.get("/webhooks", summary="Every webhook with its delivery attempts")
    async def deliveries() -> list[dict[str, Any]]:
        return [d.summary() for d in sim.webhooks.deliveries]

    @router.post("/webhooks/flush", summary="Send webhooks held back by a reorder fault")
    async def flush() -> dict[str, str]:
        sim.webhooks.flush()
        return {"status": "flushed"}

    @router.get("/reservations", summary="Every reservation, as the platform holds it")
    async def reservations() -> list[dict[str, Any]]:
        sim.sweep()
        return [r.view() for r in sim.reservations.values()]

    return router
