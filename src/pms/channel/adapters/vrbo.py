"""FeWo-direkt/Vrbo (legacy HomeAway software-partner model): Vrbo pulls the XML feeds we host
per connection (advertisers index → four content indexes → content documents) and posts quote and
booking requests to us, which we answer at once. Nothing is pushed, so the engine's "push" of a
Vrbo listing only records what the feeds now say. Element names follow the protocol notes
(``shared/design/channel-protocols.md`` §4); the feeds' auth is the connection's Basic
credentials.

This module holds the wire format only (documents in, documents out); building them from Core is
``channel/vrbo_feeds.py`` and answering requests is ``channel/vrbo_booking.py``."""

from __future__ import annotations

import hashlib
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from pms.channel.adapters.base import (
    Batch,
    Grant,
    InboundMessage,
    InboundReservation,
    InvalidWebhook,
    NightValues,
    PlatformError,
    RemoteListing,
    Run,
    VerifiedWebhook,
    listing_ids,
)
from pms.core.errors import Unprocessable
from pms.core.money import minor_unit_exponent
from pms.settings import Settings

PLATFORM = "fewo_direkt"
DOCUMENT_VERSION = "1.2"
# content kind -> (index root, index entry, entry URL element)
INDEXES = {
    "listingContent": "listingContentIndex",
    "lodgingConfigurationContent": "lodgingConfigurationContentIndex",
    "lodgingRateContent": "lodgingRateContentIndex",
    "unitAvailabilityContent": "unitAvailabilityContentIndex",
}
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_BODY = 256 * 1024


class BadRequest(ValueError):
    """A request Vrbo sent that we cannot read (answered 400 with the reason)."""


# --- XML plumbing (the same as the OTA platforms need; see the report on sharing) ---------------


def parse(body: bytes) -> ET.Element:
    """A DTD-free, well-formed document (no entity tricks: XXE, billion laughs)."""
    if len(body) > MAX_BODY:
        raise BadRequest("message too large")
    if _DTD.search(body):
        raise BadRequest("DOCTYPE and ENTITY declarations are not allowed")
    try:
        return ET.fromstring(body)  # noqa: S314 - DTDs refused above
    except ET.ParseError as exc:
        raise BadRequest(f"not well-formed XML: {exc}") from None


def render(root: ET.Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode").encode()


def sub(parent: ET.Element, tag: str, text: str | int | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = str(text)
    return el


def amount(minor: int, currency: str) -> str:
    return f"{Decimal(minor).scaleb(-minor_unit_exponent(currency)):f}"


def etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def _text(parent: ET.Element, path: str) -> str:
    value = parent.findtext(path)
    if value is None or not value.strip():
        raise BadRequest(f"{path} is required")
    return value.strip()


def _date(parent: ET.Element, path: str) -> date:
    value = _text(parent, path)
    if not _DATE.fullmatch(value):
        raise BadRequest(f"{path}: not a YYYY-MM-DD date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{path}: not a date") from None


def _count(parent: ET.Element, path: str, default: int, low: int) -> int:
    value = (parent.findtext(path) or "").strip()
    if not value:
        return default
    if not value.isdigit() or not low <= int(value) <= 50:
        raise BadRequest(f"{path}: a whole number {low}..50")
    return int(value)


# --- feeds -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedFee:
    code: str
    kind: str  # the Core fee kind
    amount_minor: int
    percent: Decimal | None
    label: str


@dataclass(frozen=True)
class FeedTax:
    code: str
    percent: Decimal
    inclusive: bool
    label: str


@dataclass(frozen=True)
class ListingFeed:
    """Everything the four content documents of one listing say, read from Core."""

    listing_id: str
    name: str
    description: str
    currency: str
    max_guests: int
    bedrooms: int
    bathrooms: Decimal
    address: Mapping[str, str | None]
    latitude: Decimal | None
    longitude: Decimal | None
    check_in_time: str
    check_out_time: str
    instant_book: bool
    amenities: Sequence[str]
    start: date
    nights: Sequence[NightValues]  # one per night from start, markup applied
    min_prior_notify: int
    default_nightly_minor: int
    fees: Sequence[FeedFee] = ()
    taxes: Sequence[FeedTax] = ()
    visitor_tax_minor: int | None = None
    los_discounts: Sequence[tuple[int, Decimal]] = ()
    refunds: Sequence[tuple[int, Decimal]] = field(default_factory=tuple)  # days before, %

    @property
    def unit_id(self) -> str:
        return self.listing_id  # one unit per listing


def _ids(root: ET.Element, feed: ListingFeed) -> None:
    sub(root, "listingExternalId", feed.listing_id)
    sub(root, "unitExternalId", feed.unit_id)


def listing_content(feed: ListingFeed) -> ET.Element:
    root = ET.Element("listingContent")
    sub(root, "listingExternalId", feed.listing_id)
    sub(root, "active", "true")
    sub(root, "headline", feed.name)
    sub(root, "description", feed.description)
    location = sub(root, "location")
    address = sub(location, "address")
    for tag, value in feed.address.items():
        if value:
            sub(address, tag, value)
    if feed.latitude is not None and feed.longitude is not None:
        geo = sub(location, "geoCode")
        sub(geo, "latitude", f"{feed.latitude:f}")
        sub(geo, "longitude", f"{feed.longitude:f}")
    units = sub(sub(root, "units"), "unit")
    sub(units, "unitExternalId", feed.unit_id)
    sub(units, "maxSleep", feed.max_guests)
    sub(units, "bedrooms", feed.bedrooms)
    sub(units, "bathrooms", f"{feed.bathrooms:f}")
    features = sub(units, "featureValues")
    for name in feed.amenities:
        sub(sub(features, "featureValue"), "unitFeatureName", name)
    return root


def lodging_configuration(feed: ListingFeed) -> ET.Element:
    root = ET.Element("lodgingConfigurationContent")
    _ids(root, feed)
    config = sub(root, "lodgingConfiguration")
    sub(config, "acceptedPaymentForms", "CARD")
    sub(config, "bookingPolicy", "INSTANT" if feed.instant_book else "QUOTEHOLD")
    sub(config, "checkInTime", feed.check_in_time)
    sub(config, "checkOutTime", feed.check_out_time)
    sub(config, "maxOccupancy", feed.max_guests)
    if feed.refunds:
        policy = sub(config, "cancellationPolicy")
        for days, percent in feed.refunds:
            step = sub(policy, "cancellationPolicyRule")
            sub(step, "daysBeforeArrival", days)
            sub(step, "refundPercent", f"{percent:f}")
    return root


def _runs(feed: ListingFeed) -> list[tuple[date, date, int]]:
    """Runs of equal nightly prices: (first night, last night inclusive, price)."""
    out: list[tuple[date, date, int]] = []
    for i, night in enumerate(feed.nights):
        day = feed.start + timedelta(days=i)
        if night.price_minor is None:
            continue
        if out and out[-1][2] == night.price_minor and out[-1][1] + timedelta(days=1) == day:
            out[-1] = (out[-1][0], day, night.price_minor)
        else:
            out.append((day, day, night.price_minor))
    return out


_FEE_APPLIES = {
    "per_stay": "PER_STAY",
    "per_night": "PER_NIGHT",
    "per_guest_per_night": "PER_PERSON_PER_NIGHT",
    "per_extra_guest_per_night": "PER_EXTRA_PERSON_PER_NIGHT",
    "per_pet": "PER_PET",
    "percent_of_accommodation": "PERCENT_OF_RENT",
}


def lodging_rate(feed: ListingFeed) -> ET.Element:
    root = ET.Element("lodgingRateContent")
    _ids(root, feed)
    rate = sub(root, "lodgingRate")
    c = feed.currency
    sub(rate, "currency", c)
    sub(rate, "externalId", f"{feed.listing_id}-standard")
    sub(rate, "language", "de")
    nightly = sub(rate, "nightlyRates")
    sub(sub(nightly, "nightlyRate"), "amount", amount(feed.default_nightly_minor, c))
    for first, last, price in _runs(feed):
        override = sub(nightly, "nightlyOverride")
        span = sub(override, "dateRange")
        sub(span, "max", last.isoformat())  # [3P] written <max> before <min>
        sub(span, "min", first.isoformat())
        sub(override, "amount", amount(price, c))
    fees = sub(rate, "fees")
    for fee in feed.fees:
        group = "cleaningFees" if "clean" in fee.code.lower() else "guestFees"
        if fee.kind == "per_pet":
            group = "petFees"
        el = sub(sub(fees, group), "fee")
        sub(el, "feeType", fee.code)
        sub(el, "name", fee.label or fee.code)
        sub(el, "appliesPer", _FEE_APPLIES.get(fee.kind, "PER_STAY"))
        if fee.percent is not None:
            sub(el, "percent", f"{fee.percent:f}")
        else:
            sub(el, "amount", amount(fee.amount_minor, c))
    rules = sub(rate, "taxRules")
    for tax in feed.taxes:
        rule = sub(rules, "taxRule")
        sub(rule, "name", tax.label or tax.code)
        sub(rule, "percent", f"{tax.percent:f}")
        sub(rule, "included", "true" if tax.inclusive else "false")
    if feed.visitor_tax_minor is not None:
        rule = sub(rules, "taxRule")
        sub(rule, "name", "Visitor tax")
        sub(rule, "appliesPer", "PER_PERSON_PER_NIGHT")
        sub(rule, "amount", amount(feed.visitor_tax_minor, c))
    schedule = sub(rate, "paymentSchedule")
    item = sub(schedule, "paymentScheduleItem")
    sub(item, "dueAt", "BOOKING" if feed.instant_book else "CONFIRMATION")
    sub(item, "percent", "100")
    if feed.los_discounts:
        discounts = sub(rate, "discounts")
        for nights, percent in feed.los_discounts:
            d = sub(discounts, "lengthOfStayDiscount")
            sub(d, "minimumNights", nights)
            sub(d, "percent", f"{percent:f}")
    return root


def _changeover(n: NightValues) -> str:
    arrive, leave = not n.closed_to_arrival, not n.closed_to_departure
    return "C" if arrive and leave else "I" if arrive else "O" if leave else "X"


def unit_availability(feed: ListingFeed) -> ET.Element:
    root = ET.Element("unitAvailabilityContent")
    _ids(root, feed)
    avail = sub(root, "unitAvailability")
    sub(avail, "availabilityDefault", "N")
    sub(avail, "changeOverDefault", "C")
    span = sub(avail, "dateRange")
    sub(span, "beginDate", feed.start.isoformat())
    sub(span, "endDate", (feed.start + timedelta(days=len(feed.nights) - 1)).isoformat())
    sub(avail, "maxStayDefault", 0)
    config = sub(avail, "unitAvailabilityConfiguration")
    nights = feed.nights
    sub(config, "availability", "".join("Y" if n.available else "N" for n in nights))
    sub(config, "availableUnitCount", ",".join("1" if n.available else "0" for n in nights))
    sub(config, "changeOver", "".join(_changeover(n) for n in nights))
    sub(config, "minStay", ",".join(str(n.min_stay or 1) for n in nights))
    sub(config, "maxStay", ",".join(str(n.max_stay or 0) for n in nights))
    sub(config, "minPriorNotify", ",".join(str(feed.min_prior_notify) for _ in nights))
    return root


CONTENT = {
    "listingContent": listing_content,
    "lodgingConfigurationContent": lodging_configuration,
    "lodgingRateContent": lodging_rate,
    "unitAvailabilityContent": unit_availability,
}


def advertisers_index(advertiser_id: str, base_url: str) -> ET.Element:
    root = ET.Element("advertisersContentIndex")
    sub(root, "documentVersion", "4.0")
    advertiser = sub(root, "advertiser")
    sub(advertiser, "advertiserAssignedId", advertiser_id)
    for index in INDEXES.values():
        sub(advertiser, f"{index}Url", f"{base_url}/{index}")
    return root


def content_index(kind: str, entries: Sequence[tuple[str, datetime]], base_url: str) -> ET.Element:
    root = ET.Element(INDEXES[kind])
    sub(root, "documentVersion", "4.0")
    for listing_id, updated in entries:
        entry = sub(root, f"{kind}Entry")
        sub(entry, "listingExternalId", listing_id)
        sub(entry, f"{kind}Url", f"{base_url}/{kind}/{listing_id}")
        sub(entry, "lastUpdatedDate", updated.isoformat(timespec="milliseconds"))
    return root


# --- quote and book ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StayRequest:
    """A quoteRequest or bookingRequest, read."""

    kind: str  # quoteRequest | bookingRequest | bookingUpdateRequest
    listing_id: str
    unit_id: str
    check_in: date
    check_out: date
    adults: int
    children: int
    pets: int
    tracking_id: str | None = None  # bookingRequest: Vrbo's id for the stay
    external_id: str | None = None  # bookingUpdateRequest: our reservation id
    action: str | None = None  # bookingUpdateRequest: MODIFY | CANCEL
    first_name: str = ""
    last_name: str = ""
    email: str | None = None
    phone: str | None = None
    message: str | None = None
    order_total: Decimal | None = None


def read_request(body: bytes) -> StayRequest:
    root = parse(body)
    kind = root.tag
    details_tag = {
        "quoteRequest": "quoteRequestDetails",
        "bookingRequest": "bookingRequestDetails",
        "bookingUpdateRequest": "bookingUpdateRequestDetails",
    }.get(kind)
    if details_tag is None:
        raise BadRequest(f"<{kind}> is not a request we answer")
    d = root.find(details_tag)
    if d is None:
        raise BadRequest(f"{details_tag} is required")
    check_in = _date(d, "reservation/reservationDates/beginDate")
    check_out = _date(d, "reservation/reservationDates/endDate")
    if check_out <= check_in or (check_out - check_in).days > 365:
        raise BadRequest("endDate must be after beginDate, at most 365 nights later")
    inquirer = d.find("inquirer")
    total = None
    items = d.findall("orderItemList/orderItem")
    if items:
        try:
            total = sum((Decimal(_text(i, "totalAmount")) for i in items), Decimal(0))
        except ArithmeticError:
            raise BadRequest("orderItem totalAmount is not an amount") from None
    action = (d.findtext("action") or "").strip() or None
    if kind == "bookingUpdateRequest" and action not in ("MODIFY", "CANCEL"):
        raise BadRequest("action must be MODIFY or CANCEL")
    if kind == "bookingRequest":
        _text(d, "trackingUuid")
    return StayRequest(
        kind=kind,
        listing_id=_text(d, "listingExternalId"),
        unit_id=(d.findtext("unitExternalId") or "").strip(),
        check_in=check_in,
        check_out=check_out,
        adults=_count(d, "reservation/numberOfAdults", 1, 1),
        children=_count(d, "reservation/numberOfChildren", 0, 0),
        pets=_count(d, "reservation/numberOfPets", 0, 0),
        tracking_id=(d.findtext("trackingUuid") or "").strip()[:100] or None,
        external_id=(d.findtext("externalId") or "").strip() or None,
        action=action,
        first_name=(inquirer.findtext("firstName") or "").strip()[:100] if inquirer else "",
        last_name=(inquirer.findtext("lastName") or "").strip()[:100] if inquirer else "",
        email=(inquirer.findtext("emailAddress") or "").strip() or None if inquirer else None,
        phone=(inquirer.findtext("phoneNumber") or "").strip()[:40] or None if inquirer else None,
        message=(d.findtext("message") or "").strip()[:2000] or None,
        order_total=total,
    )


@dataclass(frozen=True)
class OrderLine:
    fee_type: str  # RENTAL | <fee code> | TAX
    name: str
    pre_tax_minor: int
    total_minor: int


def _order(details: ET.Element, currency: str, lines: Sequence[OrderLine]) -> None:
    order = sub(sub(details, "orderList"), "order")
    sub(order, "currency", currency)
    items = sub(order, "orderItemList")
    for line in lines:
        item = sub(items, "orderItem")
        sub(item, "feeType", line.fee_type)
        sub(item, "name", line.name)
        sub(item, "preTaxAmount", amount(line.pre_tax_minor, currency))
        sub(item, "totalAmount", amount(line.total_minor, currency))
    schedule = sub(order, "paymentSchedule")
    item = sub(schedule, "paymentScheduleItem")
    sub(item, "amount", amount(sum(x.total_minor for x in lines), currency))
    sub(item, "dueAt", "BOOKING")


def _head(
    req: StayRequest, root_tag: str, details_tag: str, advertiser: str
) -> tuple[ET.Element, ET.Element]:
    root = ET.Element(root_tag)
    sub(root, "documentVersion", DOCUMENT_VERSION)
    details = sub(root, details_tag)
    sub(details, "advertiserAssignedId", advertiser)
    sub(details, "listingExternalId", req.listing_id)
    sub(details, "unitExternalId", req.unit_id or req.listing_id)
    return root, details


def quote_response(
    req: StayRequest, advertiser: str, currency: str, lines: Sequence[OrderLine]
) -> bytes:
    root, details = _head(req, "quoteResponse", "quoteResponseDetails", advertiser)
    sub(details, "locale", "de_DE")
    _order(details, currency, lines)
    return render(root)


def booking_response(
    req: StayRequest,
    advertiser: str,
    *,
    external_id: str,
    status: str,
    currency: str,
    lines: Sequence[OrderLine],
) -> bytes:
    root, details = _head(req, "bookingResponse", "bookingResponseDetails", advertiser)
    sub(details, "externalId", external_id)
    sub(details, "locale", "de_DE")
    _order(details, currency, lines)
    sub(details, "reservationPaymentStatus", "PAID" if status == "CONFIRMED" else "PENDING")
    sub(details, "reservationStatus", status)
    return render(root)


def failure(req: StayRequest | None, kind: str, advertiser: str, code: str, message: str) -> bytes:
    """The documented refusal: the response root with an ``errorList`` and no reservation."""
    response = {
        "quoteRequest": ("quoteResponse", "quoteResponseDetails"),
        "bookingRequest": ("bookingResponse", "bookingResponseDetails"),
        "bookingUpdateRequest": ("bookingUpdateResponse", "bookingUpdateResponseDetails"),
    }.get(kind, ("errorResponse", "errorResponseDetails"))
    root = ET.Element(response[0])
    sub(root, "documentVersion", DOCUMENT_VERSION)
    details = sub(root, response[1])
    if req is not None:
        sub(details, "advertiserAssignedId", advertiser)
        sub(details, "listingExternalId", req.listing_id)
    error = sub(sub(details, "errorList"), "error")
    sub(error, "errorCode", code)
    sub(error, "errorMessage", message)
    return render(root)


def update_response(req: StayRequest, advertiser: str, external_id: str, status: str) -> bytes:
    root, details = _head(req, "bookingUpdateResponse", "bookingUpdateResponseDetails", advertiser)
    sub(details, "externalId", external_id)
    sub(details, "reservationStatus", status)
    return render(root)


# --- the booking-update feed ------------------------------------------------------------------


@dataclass(frozen=True)
class BookingUpdate:
    external_id: str
    tracking_id: str
    listing_id: str
    status: str  # CONFIRMED | UNCONFIRMED | CANCELLED | DECLINED
    check_in: date
    check_out: date
    adults: int
    children: int
    updated_at: datetime


def booking_updates(updates: Sequence[BookingUpdate]) -> ET.Element:
    root = ET.Element("bookingUpdates")
    sub(root, "documentVersion", DOCUMENT_VERSION)
    for u in updates:
        el = sub(root, "bookingUpdate")
        sub(el, "externalId", u.external_id)
        sub(el, "trackingUuid", u.tracking_id)
        sub(el, "listingExternalId", u.listing_id)
        sub(el, "reservationStatus", u.status)
        res = sub(el, "reservation")
        sub(res, "numberOfAdults", u.adults)
        sub(res, "numberOfChildren", u.children)
        dates = sub(res, "reservationDates")
        sub(dates, "beginDate", u.check_in.isoformat())
        sub(dates, "endDate", u.check_out.isoformat())
        sub(el, "lastUpdatedDate", u.updated_at.isoformat(timespec="seconds"))
    return root


# --- the adapter ------------------------------------------------------------------------------


def check_basic(credentials: Mapping[str, Any], username: str, password: str) -> bool:
    """Constant-time comparison of the Basic credentials Vrbo sent with the connection's."""
    want_user = str(credentials.get("username") or "")
    want_pass = str(credentials.get("password") or "")
    ok_user = secrets.compare_digest(want_user.encode(), username.encode())
    ok_pass = secrets.compare_digest(want_pass.encode(), password.encode())
    return bool(want_user and want_pass and ok_user and ok_pass)


class VrboAdapter:
    """Vrbo pulls: ``push_ari`` costs no call (the feeds are built from Core when Vrbo reads
    them, and the engine's acknowledged nights record what they said); the inbound side is the
    real-time booking endpoint, so there are no webhooks to verify and nothing to pull."""

    platform = PLATFORM
    window_days = 365

    def __init__(self, settings: Settings) -> None:
        self.base = settings.vrbo_api_base.rstrip("/")
        self.timeout = settings.channel_http_timeout_seconds

    async def exchange_code(self, code: str) -> Grant:
        raise Unprocessable(
            "FeWo-direkt/Vrbo connects with credentials (no authorization code).",
            errors=[{"field": "authorization_code", "in": "body", "message": "not supported"}],
        )

    async def check_credentials(self, credentials: Mapping[str, Any]) -> Grant:
        """The credentials are the ones Vrbo uses to call us: a username and a password of at
        least 12 characters, the advertiser id, and the listing ids we publish."""
        errors = []
        if not str(credentials.get("username") or "").strip():
            errors.append({"field": "credentials.username", "in": "body", "message": "required"})
        if len(str(credentials.get("password") or "")) < 12:
            errors.append(
                {"field": "credentials.password", "in": "body", "message": "12+ characters"}
            )
        advertiser = str(credentials.get("advertiser_id") or "").strip()
        if not advertiser:
            errors.append(
                {"field": "credentials.advertiser_id", "in": "body", "message": "required"}
            )
        if not 1 <= len(listing_ids(credentials)) <= 2000:
            errors.append(
                {
                    "field": "credentials.listings",
                    "in": "body",
                    "message": "1..2000 listing ids, comma-separated",
                }
            )
        if errors:
            raise Unprocessable("FeWo-direkt/Vrbo credentials are incomplete.", errors=errors)
        return Grant(account_id=advertiser, credentials=dict(credentials))

    async def refresh(self, credentials: Mapping[str, Any]) -> Grant:
        return Grant(account_id="", credentials=dict(credentials))

    async def list_listings(self, credentials: Mapping[str, Any]) -> list[RemoteListing]:
        return listing_ids(credentials)

    def batches(self, runs: Sequence[Run]) -> list[Batch]:
        return [Batch(runs=tuple(runs))] if runs else []

    async def push_ari(
        self, credentials: Mapping[str, Any], listing_id: str, currency: str, batch: Batch
    ) -> None:
        """Nothing to send: Vrbo reads the feed, whose documents now carry these nights."""

    async def read_back(
        self, credentials: Mapping[str, Any], listing_id: str, currency: str, start: date, end: date
    ) -> dict[date, tuple[NightValues, str | None]]:
        """What travellers see on Vrbo (the sandbox's calendar), as read from our feeds."""
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.get(
                    f"{self.base}/listings/{listing_id}/calendar",
                    params={
                        "start": start.isoformat(),
                        "end": (end - timedelta(days=1)).isoformat(),
                    },
                )
        except httpx.HTTPError as exc:
            raise PlatformError(f"Vrbo calendar: {type(exc).__name__}", retryable=True) from None
        if response.status_code == 404:
            return {}  # Vrbo has not read the listing yet: every night differs
        if not response.is_success:
            raise PlatformError(
                f"Vrbo calendar: {response.status_code}",
                status=response.status_code,
                retryable=response.status_code >= 500 or response.status_code == 429,
            )
        exponent = minor_unit_exponent(currency)
        out: dict[date, tuple[NightValues, str | None]] = {}
        for d in response.json():
            price = d.get("price")
            out[date.fromisoformat(d["date"])] = (
                NightValues(
                    available=bool(d["available"]),
                    price_minor=int(Decimal(price).scaleb(exponent)) if price else None,
                    min_stay=d.get("min_stay"),
                    max_stay=d.get("max_stay") or None,
                    closed_to_arrival=bool(d.get("closed_to_arrival")),
                    closed_to_departure=bool(d.get("closed_to_departure")),
                ),
                None,
            )
        return out

    async def pull_bookings(
        self, credentials: Mapping[str, Any], listing_id: str
    ) -> list[InboundReservation]:
        return []  # bookings arrive as real-time requests, answered at once

    async def ack(self, credentials: Mapping[str, Any], message: InboundMessage) -> None:
        """Our answer to the booking request is the acknowledgement."""

    async def accept(self, credentials: Mapping[str, Any], code: str) -> None:
        """An UNCONFIRMED stay is confirmed in Core; the booking-update feed tells Vrbo."""

    async def decline(self, credentials: Mapping[str, Any], code: str) -> None:
        """Declined in Core; the booking-update feed tells Vrbo."""

    async def decide_alteration(
        self, credentials: Mapping[str, Any], alteration_id: str, accept: bool
    ) -> None:
        raise PlatformError("Vrbo sends changes as booking updates, not alteration requests")

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> VerifiedWebhook:
        raise InvalidWebhook("Vrbo sends no webhooks: it calls the booking endpoint")

    def parse_message(self, body: bytes) -> InboundMessage:
        raise InvalidWebhook("Vrbo sends no webhooks")
