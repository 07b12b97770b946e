"""FeWo-direkt/Vrbo simulator (legacy HomeAway software-partner model): Vrbo pulls the feeds the
PMS hosts (advertisers index -> per-advertiser content indexes -> content) on a schedule or on
demand and keeps what it read; guests' quote and booking requests are POSTed to the PMS, which
must answer in the documented shape within a timeout.

Feed element names follow third-party copies of the HomeAway docs [3P]; index entry names, the
update request and the auth of Vrbo's calls are the simulator's choice [GUESS].
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import httpx
from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel, Field

from pms.logs import get_logger
from pms.sandbox import xmlsafe
from pms.sandbox.accounts import PerAccount
from pms.sandbox.clock import SimClock
from pms.sandbox.control import ControlError, GuestBooking, GuestChange
from pms.sandbox.days import Calendar, DayView, nights, stay_nights
from pms.sandbox.faults import FaultInjection, Faults
from pms.sandbox.ratelimit import SlidingWindow

log = get_logger(__name__)
DOCUMENT_VERSION = "1.2"
INDEXES = (
    "listingContentIndex",
    "lodgingConfigurationContentIndex",
    "lodgingRateContentIndex",
    "unitAvailabilityContentIndex",
)
CHANGEOVER = set("CIOX")  # C in/out, I check-in only, O checkout only, X none


class FeedError(ValueError):
    pass


class VrboConfig(BaseModel):
    feed_url: str | None = None  # the PMS's advertisers content index
    pull_interval_s: float | None = Field(default=None, gt=0)
    booking_url: str | None = None  # where quote and booking requests go
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    username: str = "vrbo-sandbox"
    password: str = "vrbo-sandbox-secret"


class Quote(BaseModel):
    listing_id: str
    unit_id: str | None = None
    arrival: date
    departure: date
    adults: int = Field(default=2, ge=1)
    children: int = Field(default=0, ge=0)
    pets: int = Field(default=0, ge=0)


@dataclass
class PullReport:
    number: int
    trigger: Literal["schedule", "on_demand"]
    at: str
    fetched: list[dict[str, Any]] = field(default_factory=list)
    skipped_unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Stay:
    id: str
    listing_id: str
    unit_id: str
    arrival: date
    departure: date
    adults: int
    children: int
    first_name: str
    last_name: str
    email: str
    phone: str
    status: Literal["requested", "confirmed", "unconfirmed", "failed", "cancelled"] = "requested"
    external_id: str | None = None
    exchanges: list[dict[str, Any]] = field(default_factory=list)


def _text(parent: ET.Element, path: str) -> str:
    value = parent.findtext(path)
    if value is None or not value.strip():
        raise FeedError(f"{xmlsafe.local(parent.tag)}: {path} is required")
    return value.strip()


def _sub(parent: ET.Element, tag: str, text: str | int | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = str(text)
    return el


PUBLIC = "public"


class VrboSimulator:
    name = "vrbo"

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.faults = Faults()
        self._schedule: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self.reset()

    def reset(self) -> None:
        if self._schedule is not None:
            self._schedule.cancel()
            self._schedule = None
        self.config = VrboConfig()
        self.calendar = Calendar()
        self.rates: dict[str, dict[str, Any]] = {}
        self.listings: dict[str, dict[str, Any]] = {}
        self.pulls: list[PullReport] = []
        self._seen: dict[str, str] = {}  # content URL -> lastUpdatedDate already read
        self._etags: dict[str, tuple[str, bytes]] = {}  # URL -> (ETag, body) for 304s
        self.stays: dict[str, Stay] = {}
        self.quotes: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self.limiter = SlidingWindow(600, 60.0, self.clock.seconds)
        # Nobody calls Vrbo with an account (Vrbo calls the PMS): the one account of its own
        # paths is the traveller's, ``public``.
        self.overrides = PerAccount(self.clock.seconds)
        self.faults.clear()

    def webhook_target(self) -> dict[str, Any]:
        """Vrbo calls the PMS: quote and booking requests to ``booking_url`` (answered at once),
        feeds pulled from ``feed_url`` (the password is not shown)."""
        c = self.config
        return {
            "delivery": "request",
            "url": c.booking_url,
            "feed_url": c.feed_url,
            "pull_interval_s": c.pull_interval_s,
            "timeout_s": c.timeout_s,
            "username": c.username,
            "password_set": bool(c.password),
        }

    def configure(self, config: VrboConfig) -> None:
        self.config = config
        if self._schedule is not None:
            self._schedule.cancel()
            self._schedule = None
        if config.feed_url and config.pull_interval_s:
            self._schedule = asyncio.get_running_loop().create_task(
                self._pull_every(config.pull_interval_s)
            )

    async def _pull_every(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.pull("schedule")
            except Exception:  # a failed pull is logged; the schedule goes on
                log.exception("vrbo_scheduled_pull_failed")

    async def close(self) -> None:
        if self._schedule is not None:
            self._schedule.cancel()
        if self._client is not None:
            with contextlib.suppress(RuntimeError):
                await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient()
        return self._client

    # --- feeds ----------------------------------------------------------------------------

    async def _get(self, url: str, report: PullReport, kind: str) -> ET.Element | None:
        entry: dict[str, Any] = {"url": url, "kind": kind}
        report.fetched.append(entry)
        try:
            cached = self._etags.get(url)
            response = await self._http().get(
                url,
                timeout=self.config.timeout_s,
                auth=(self.config.username, self.config.password),
                headers={"If-None-Match": cached[0]} if cached else None,
            )
            entry["status"] = response.status_code
            if response.status_code == 304 and cached:
                body = cached[1]  # unchanged: what we read last time
            elif response.status_code != 200:
                raise FeedError(f"{url}: HTTP {response.status_code}")
            else:
                body = response.content
                if tag := response.headers.get("etag"):
                    self._etags[url] = (tag, body)
            root = xmlsafe.parse(body)
            if xmlsafe.local(root.tag) != kind:
                raise FeedError(f"{url}: expected <{kind}>, got <{xmlsafe.local(root.tag)}>")
            return root
        except (httpx.HTTPError, FeedError, xmlsafe.MalformedXml) as exc:
            entry["error"] = str(exc) or type(exc).__name__
            report.errors.append(entry["error"])
            return None

    async def pull(self, trigger: Literal["schedule", "on_demand"]) -> PullReport:
        report = PullReport(len(self.pulls) + 1, trigger, self.clock.now().isoformat())
        self.pulls.append(report)
        if not self.config.feed_url:
            report.errors.append("no feed_url configured")
            return report
        index = await self._get(self.config.feed_url, report, "advertisersContentIndex")
        if index is None:
            return report
        for advertiser in index.findall("advertiser"):
            for name in INDEXES:
                url = advertiser.findtext(f"{name}Url")
                if not url:
                    continue
                sub_index = await self._get(url.strip(), report, name)
                if sub_index is not None:
                    await self._read_index(sub_index, name.removesuffix("Index"), report)
        return report

    async def _read_index(self, index: ET.Element, content: str, report: PullReport) -> None:
        for entry in index.findall(f"{content}Entry"):
            url = (entry.findtext(f"{content}Url") or "").strip()
            updated = (entry.findtext("lastUpdatedDate") or "").strip()
            if not url or not updated:
                report.errors.append(f"{content}Entry needs {content}Url and lastUpdatedDate")
                continue
            if self._seen.get(url) == updated:
                report.skipped_unchanged.append(url)  # documented: refetch only what changed
                continue
            root = await self._get(url, report, content)
            if root is None:
                continue
            try:
                self._apply(content, root)
            except (FeedError, ValueError, InvalidOperation) as exc:
                report.errors.append(f"{url}: {exc}")
                report.fetched[-1]["error"] = str(exc)
                continue
            self._seen[url] = updated

    def _apply(self, content: str, root: ET.Element) -> None:
        if content == "unitAvailabilityContent":
            self._apply_availability(root)
        elif content == "lodgingRateContent":
            self._apply_rates(root)
        else:
            listing = _text(root, "listingExternalId")
            self.listings.setdefault(listing, {})[content] = ET.tostring(root, "unicode")[:2000]

    def _apply_availability(self, root: ET.Element) -> None:
        """All or nothing: every per-day string must cover the date range exactly."""
        listing, unit = _text(root, "listingExternalId"), _text(root, "unitExternalId")
        avail = root.find("unitAvailability")
        if avail is None:
            raise FeedError("unitAvailability is required")
        start = xmlsafe.parse_date(_text(avail, "dateRange/beginDate"))
        end = xmlsafe.parse_date(_text(avail, "dateRange/endDate"))
        if end < start:
            raise FeedError("endDate is before beginDate")
        span = list(nights(start, end))
        config = avail.find("unitAvailabilityConfiguration")
        if config is None:
            raise FeedError("unitAvailabilityConfiguration is required")

        def chars(tag: str, allowed: set[str]) -> list[str] | None:
            text = config.findtext(tag)
            if text is None:
                return None
            values = list(text.strip())
            if len(values) != len(span) or not set(values) <= allowed:
                raise FeedError(
                    f"{tag}: one of {sorted(allowed)} per day of the range "
                    f"({len(span)} days), got {len(values)}"
                )
            return values

        def numbers(tag: str) -> list[int] | None:
            text = config.findtext(tag)
            if text is None:
                return None
            values = [v.strip() for v in text.strip().split(",")]
            if len(values) != len(span) or not all(v.isdigit() for v in values):
                raise FeedError(f"{tag}: one number per day of the range ({len(span)} days)")
            return [int(v) for v in values]

        availability = chars("availability", {"Y", "N"})
        if availability is None:
            raise FeedError("availability is required")
        changeover = chars("changeOver", CHANGEOVER)
        counts, min_stay, max_stay = (
            numbers("availableUnitCount"),
            numbers("minStay"),
            numbers("maxStay"),
        )
        for i, night in enumerate(span):
            day = self.calendar.day((listing, unit, ""), night)
            day.closed = availability[i] == "N"
            day.units = counts[i] if counts else (0 if day.closed else 1)
            if changeover:
                day.closed_to_arrival = changeover[i] in ("O", "X")
                day.closed_to_departure = changeover[i] in ("I", "X")
            day.min_stay = min_stay[i] if min_stay else None
            day.max_stay = max_stay[i] if max_stay else None

    def _apply_rates(self, root: ET.Element) -> None:
        listing, unit = _text(root, "listingExternalId"), _text(root, "unitExternalId")
        rate = root.find("lodgingRate")
        if rate is None:
            raise FeedError("lodgingRate is required (lodgingRateLos is not modelled)")
        currency = _text(rate, "currency")
        plan: list[tuple[date, date, Decimal]] = []
        for nightly in rate.findall("nightlyRates/nightlyOverride"):
            # [3P] ranges are written with <max> before <min>; the order is not relied upon.
            low = xmlsafe.parse_date(_text(nightly, "dateRange/min"))
            high = xmlsafe.parse_date(_text(nightly, "dateRange/max"))
            amount = Decimal(_text(nightly, "amount"))
            if high < low or amount <= 0:
                raise FeedError("nightlyOverride needs min <= max and a positive amount")
            plan.append((low, high, amount))
        default = rate.findtext("nightlyRates/nightlyRate/amount")
        for low, high, amount in plan:
            for night in nights(low, high):
                day = self.calendar.day((listing, unit, ""), night)
                day.price, day.currency = amount, currency
        fees = [
            {
                "type": (f.findtext("feeType") or xmlsafe.local(f.tag)),
                "amount": f.findtext("amount"),
            }
            for f in rate.findall("fees//fee")
        ]
        self.rates[listing] = {
            "unit": unit,
            "currency": currency,
            "default_nightly": default,
            "fees": fees,
        }

    # --- the platform's view --------------------------------------------------------------

    def days(self, listing_id: str, start: date, end: date) -> list[DayView]:
        keys = self.calendar.keys_for(listing_id)
        if not keys:
            raise ControlError(404, f"Vrbo has read nothing for listing {listing_id}")
        out = []
        default = self.rates.get(listing_id, {}).get("default_nightly")
        for key in keys:
            for night in nights(start, end):
                day = self.calendar.get(key, night)
                booked = self._booked(listing_id, night)
                price = day.price if day and day.price else (Decimal(default) if default else None)
                out.append(
                    DayView(
                        date=night,
                        room_id=key[1],
                        available=bool(day and not day.closed and day.units) and not booked,
                        units=0 if booked else (day.units if day else None),
                        price=price,
                        currency=(
                            day.currency
                            if day and day.currency
                            else self.rates.get(listing_id, {}).get("currency")
                        ),
                        min_stay=day.min_stay if day else None,
                        max_stay=day.max_stay if day else None,
                        closed_to_arrival=bool(day and day.closed_to_arrival),
                        closed_to_departure=bool(day and day.closed_to_departure),
                    )
                )
        return out

    def _booked(self, listing_id: str, night: date) -> bool:
        return any(
            s.listing_id == listing_id
            and s.status in ("confirmed", "unconfirmed")
            and s.arrival <= night < s.departure
            for s in self.stays.values()
        )

    def _unit(self, listing_id: str, unit_id: str | None) -> str:
        units = [k[1] for k in self.calendar.keys_for(listing_id)]
        if unit_id:
            return unit_id
        return units[0] if units else f"{listing_id}-1"

    # --- quote and book -------------------------------------------------------------------

    def _reservation(
        self,
        parent: ET.Element,
        arrival: date,
        departure: date,
        adults: int,
        children: int,
        pets: int = 0,
    ) -> None:
        res = _sub(parent, "reservation")
        _sub(res, "numberOfAdults", adults)
        _sub(res, "numberOfChildren", children)
        _sub(res, "numberOfPets", pets)
        dates = _sub(res, "reservationDates")
        _sub(dates, "beginDate", arrival.isoformat())
        _sub(dates, "endDate", departure.isoformat())

    def _details(self, root: ET.Element, tag: str, listing: str, unit: str) -> ET.Element:
        _sub(root, "documentVersion", DOCUMENT_VERSION)
        details = _sub(root, tag)
        _sub(details, "advertiserAssignedId", "sandbox-advertiser")
        _sub(details, "listingExternalId", listing)
        _sub(details, "unitExternalId", unit)
        # The traveller's listing page, on quote and booking requests alike (protocol notes §4).
        _sub(details, "propertyUrl", f"https://www.fewo-direkt.de/ferienwohnung/{listing}")
        _sub(details, "listingChannel", "HOMEAWAY_DE")
        return details

    @staticmethod
    def _refusal(answer: ET.Element, details: str) -> str | None:
        """The PMS's documented failure: an errorList instead of a reservation."""
        error = answer.find(f"{details}/errorList/error")
        if error is None:
            return None
        return f"{error.findtext('errorCode') or ''}: {error.findtext('errorMessage') or ''}"

    async def _exchange(
        self, body: ET.Element, expect: str
    ) -> tuple[dict[str, Any], ET.Element | None]:
        """POST to the PMS; the answer must come in time, as HTTP 200, with the expected root."""
        record: dict[str, Any] = {
            "request": xmlsafe.local(body.tag),
            "at": self.clock.now().isoformat(),
        }
        if not self.config.booking_url:
            record["outcome"] = "no_booking_url"
            return record, None
        try:
            response = await self._http().post(
                self.config.booking_url,
                content=xmlsafe.to_bytes(body),
                headers={"Content-Type": "application/xml"},
                auth=(self.config.username, self.config.password),
                timeout=self.config.timeout_s,
            )
        except httpx.TimeoutException:
            record["outcome"] = "timeout"
            return record, None
        except httpx.HTTPError as exc:
            record["outcome"], record["error"] = "unreachable", type(exc).__name__
            return record, None
        record["status"] = response.status_code
        if response.status_code != 200:
            record["outcome"] = "http_error"
            return record, None
        try:
            root = xmlsafe.parse(response.content)
        except xmlsafe.MalformedXml as exc:
            record["outcome"], record["error"] = "invalid", str(exc)
            return record, None
        if root.tag != expect:
            record["outcome"], record["error"] = "invalid", f"expected <{expect}>"
            return record, None
        record["outcome"] = "answered"
        return record, root

    async def quote(self, quote: Quote) -> dict[str, Any]:
        unit = self._unit(quote.listing_id, quote.unit_id)
        root = ET.Element("quoteRequest")
        details = self._details(root, "quoteRequestDetails", quote.listing_id, unit)
        self._reservation(
            details, quote.arrival, quote.departure, quote.adults, quote.children, quote.pets
        )
        record, answer = await self._exchange(root, "quoteResponse")
        if answer is not None and (refusal := self._refusal(answer, "quoteResponseDetails")):
            record["outcome"], record["error"] = "refused", refusal
        elif answer is not None:
            items = answer.findall("quoteResponseDetails/orderList/order/orderItemList/orderItem")
            try:
                record["total"] = str(
                    sum((Decimal(i.findtext("totalAmount") or "") for i in items), Decimal(0))
                )
                record["currency"] = answer.findtext(
                    "quoteResponseDetails/orderList/order/currency"
                )
            except InvalidOperation:
                record["outcome"], record["error"] = "invalid", "orderItem totalAmount"
            if not items:
                record["outcome"], record["error"] = "invalid", "no orderItem in the quote"
        self.quotes.append(record)
        return record

    async def create_booking(self, booking: GuestBooking) -> dict[str, Any]:
        unit = self._unit(booking.listing_id, booking.room_id)
        if not booking.force and any(
            not d.available
            for d in self.days(
                booking.listing_id, booking.arrival, booking.departure - timedelta(days=1)
            )
            if d.room_id == unit
        ):
            raise ControlError(409, "the nights are not bookable on Vrbo")
        stay = Stay(
            f"HA-{next(self._ids):06d}",
            booking.listing_id,
            unit,
            booking.arrival,
            booking.departure,
            booking.adults,
            booking.children,
            booking.first_name,
            booking.last_name,
            str(booking.email),
            booking.phone,
        )
        self.stays[stay.id] = stay
        root = ET.Element("bookingRequest")
        details = self._details(root, "bookingRequestDetails", stay.listing_id, unit)
        _sub(details, "trackingUuid", stay.id)
        _sub(details, "travelerSource", "FEWO_DIREKT")
        inquirer = _sub(details, "inquirer")
        _sub(inquirer, "firstName", stay.first_name)
        _sub(inquirer, "lastName", stay.last_name)
        _sub(inquirer, "emailAddress", stay.email)
        _sub(inquirer, "phoneNumber", stay.phone)
        _sub(details, "message", "Booked in the channel sandbox")
        self._reservation(details, stay.arrival, stay.departure, stay.adults, stay.children)
        items = _sub(_sub(details, "orderItemList"), "orderItem")
        nightly = self.days(stay.listing_id, stay.arrival, stay.arrival)[0].price or Decimal(100)
        total = nightly * len(stay_nights(stay.arrival, stay.departure))
        _sub(items, "feeType", "RENTAL")
        _sub(items, "name", "Rent")
        _sub(items, "preTaxAmount", f"{total:.2f}")
        _sub(items, "totalAmount", f"{total:.2f}")
        record, answer = await self._exchange(root, "bookingResponse")
        if answer is not None and (refusal := self._refusal(answer, "bookingResponseDetails")):
            record["outcome"], record["error"] = "refused", refusal
        elif answer is not None:
            status = answer.findtext("bookingResponseDetails/reservationStatus")
            external = answer.findtext("bookingResponseDetails/externalId")
            if status not in ("CONFIRMED", "UNCONFIRMED") or not external:
                record["outcome"] = "invalid"
                record["error"] = "bookingResponseDetails needs externalId and reservationStatus"
            else:
                stay.status = "confirmed" if status == "CONFIRMED" else "unconfirmed"
                stay.external_id = external
        if record["outcome"] != "answered":
            stay.status = "failed"  # Vrbo does not take a booking the PMS did not answer
        stay.exchanges.append(record)
        return self.summary(stay)

    async def _update(self, stay: Stay, action: str) -> dict[str, Any]:
        root = ET.Element("bookingUpdateRequest")  # [GUESS] the update message
        details = self._details(root, "bookingUpdateRequestDetails", stay.listing_id, stay.unit_id)
        _sub(details, "externalId", stay.external_id or "")
        _sub(details, "action", action)
        self._reservation(details, stay.arrival, stay.departure, stay.adults, stay.children)
        record, _ = await self._exchange(root, "bookingUpdateResponse")
        stay.exchanges.append(record)
        return record

    async def modify_booking(self, booking_id: str, change: GuestChange) -> dict[str, Any]:
        stay = self._live(booking_id)
        stay.arrival = change.arrival or stay.arrival
        stay.departure = change.departure or stay.departure
        stay.adults = change.adults or stay.adults
        stay.children = stay.children if change.children is None else change.children
        await self._update(stay, "MODIFY")
        return self.summary(stay)

    async def cancel_booking(self, booking_id: str) -> dict[str, Any]:
        stay = self._live(booking_id)
        stay.status = "cancelled"
        await self._update(stay, "CANCEL")
        return self.summary(stay)

    def _live(self, booking_id: str) -> Stay:
        stay = self.stays.get(booking_id)
        if stay is None:
            raise ControlError(404, f"no booking {booking_id}")
        if stay.status not in ("confirmed", "unconfirmed"):
            raise ControlError(409, f"booking {booking_id} is {stay.status}")
        return stay

    def summary(self, stay: Stay) -> dict[str, Any]:
        return {
            "id": stay.id,
            "listing_id": stay.listing_id,
            "unit_id": stay.unit_id,
            "arrival": stay.arrival.isoformat(),
            "departure": stay.departure.isoformat(),
            "status": stay.status,
            "external_id": stay.external_id,
            "exchanges": stay.exchanges,
        }


def create_vrbo_app(sim: VrboSimulator) -> Any:
    """Vrbo calls the PMS, not the other way round: its own paths only show what travellers see."""
    app = FastAPI(title="FeWo-direkt/Vrbo (sandbox)", redirect_slashes=False, openapi_url=None)

    @app.get("/listings/{listing_id}/calendar")
    async def calendar(listing_id: str, start: date, end: date) -> list[DayView]:
        if (wait := sim.overrides.hit(PUBLIC, sim.limiter)) is not None:
            raise HTTPException(429, "Too many requests", {"Retry-After": str(wait)})
        injected = await sim.overrides.fault(PUBLIC, "GET", f"/listings/{listing_id}/calendar")
        if injected is not None:
            headers = (
                {"Retry-After": str(injected.retry_after_s)} if injected.status == 429 else None
            )
            raise HTTPException(injected.status, injected.message, headers)
        try:
            return sim.days(listing_id, start, min(end, start + timedelta(days=366)))
        except ControlError as exc:
            raise HTTPException(exc.status, exc.detail) from exc

    def render_fault(status: int, message: str) -> tuple[bytes, str]:
        return f'{{"detail": "{message}"}}'.encode(), "application/json"

    return FaultInjection(app, sim.faults, render_fault)


def vrbo_control_router(sim: VrboSimulator) -> APIRouter:
    router = APIRouter(prefix="/control/vrbo", tags=["control: vrbo"])

    @router.put("/config", summary="Feed URL, pull schedule, PMS booking URL and timeout")
    async def configure(config: VrboConfig) -> VrboConfig:
        sim.configure(config)
        return config

    @router.post("/pull", summary="Pull the PMS feeds now and report what was read")
    async def pull() -> dict[str, Any]:
        return vars(await sim.pull("on_demand"))

    @router.get("/feeds", summary="Every pull so far: what was fetched, skipped and refused")
    async def feeds() -> list[dict[str, Any]]:
        return [vars(r) for r in sim.pulls]

    @router.get("/listings", summary="Listings and rate content Vrbo has read")
    async def listings() -> dict[str, Any]:
        return {"listings": sim.listings, "rates": sim.rates}

    @router.post("/quotes", summary="Ask the PMS for a quote as a traveller would")
    async def quote(body: Quote) -> dict[str, Any]:
        return await sim.quote(body)

    @router.get("/reservations", summary="Every booking request and how the PMS answered")
    async def reservations() -> list[dict[str, Any]]:
        return [sim.summary(s) for s in sim.stays.values()]

    return router
