"""Google Vacation Rentals (Hotel Center): our direct booking engine, found on Google. We push
Property Data (room = listing) and ARI as OpenTravel messages (``OTA_HotelRateAmountNotifRQ``,
``OTA_HotelAvailNotifRQ``, ``OTA_HotelInvCountNotifRQ``), each availability message a delta of
one restriction type. Google's ``Restriction="Master"`` is closed by default, so every sellable
night is opened explicitly and every other night closed explicitly. Google takes no bookings:
guests land on our booking site (``landing_url``) and book there. Auth is Google's IP allow-list
plus our partner key (``RequestorID``). Wire format: ``shared/design/channel-protocols.md`` §5.

The OTA helpers at the top (root, POS, StatusApplicationControl, the ``…RS`` reading) are the
ones Booking.com and Expedia need too; they are kept here until the shared OTA module exists."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

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
    VerifiedWebhook,
    listing_ids,
    retried_inside,
)
from pms.core.errors import Unprocessable
from pms.core.money import minor_unit_exponent
from pms.settings import Settings

OTA_NS = "http://www.opentravel.org/OTA/2003/05"
PACKAGE = "standard"  # our one package (rate plan) per listing
MAX_RUNS = 200  # runs per call [GUESS: Google documents no per-message cap]
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
PATHS = {
    "property_data": "/travel/hotels/uploads/property_data",
    "avail": "/travel/hotels/uploads/ota/hotel_avail_notif",
    "rates": "/travel/hotels/uploads/ota/hotel_rate_amount_notif",
    "inventory": "/travel/hotels/uploads/ota/hotel_inv_count_notif",
}


# --- OTA message plumbing (to move onto the shared OTA helpers) -------------------------------


def ota_root(name: str, message_id: str, now: datetime, **attrs: str) -> ET.Element:
    return ET.Element(
        name,
        {
            "xmlns": OTA_NS,
            "EchoToken": message_id,
            "TimeStamp": now.isoformat(timespec="seconds"),
            "Version": "3.0",
            **attrs,
        },
    )


def pos(root: ET.Element, requestor: str) -> None:
    source = ET.SubElement(ET.SubElement(root, "POS"), "Source")
    # Type 22: ERSP (OTA code list UIT); the schema requires a Type (make lint-xml).
    ET.SubElement(source, "RequestorID", {"ID": requestor, "Type": "22"})


def status_control(parent: ET.Element, run: Run, room: str, rate: str | None = None) -> ET.Element:
    """``Start``/``End`` are the first and last night, both inclusive."""
    attrs = {
        "Start": run.start.isoformat(),
        "End": (run.end - timedelta(days=1)).isoformat(),
        "InvTypeCode": room,
    }
    if rate is not None:
        attrs["RatePlanCode"] = rate
    return ET.SubElement(parent, "StatusApplicationControl", attrs)


def render(root: ET.Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode").encode()


def ota_errors(body: bytes) -> list[str]:
    """The ``Errors`` of an ``…RS`` (empty with ``Success``); unreadable answers are errors."""
    if _DTD.search(body):
        return ["answer with a DTD"]
    try:
        root = ET.fromstring(body)  # noqa: S314 - DTDs refused above
    except ET.ParseError:
        return ["not an XML answer"]
    found = [
        f"{e.get('Code')} {e.get('ShortText') or ''} {(e.text or '').strip()}".strip()
        for e in root.iter()
        if e.tag.rsplit("}", 1)[-1] == "Error"
    ]
    if found:
        return found
    if not any(e.tag.rsplit("}", 1)[-1] == "Success" for e in root.iter()):
        return ["answer without Success"]
    return []


def amount(minor: int, currency: str) -> str:
    return f"{Decimal(minor).scaleb(-minor_unit_exponent(currency)):f}"


# --- messages ---------------------------------------------------------------------------------


def property_data(partner: str, listing_id: str, name: str, capacity: int) -> bytes:
    now = datetime.now(UTC)
    root = ET.Element(
        "Transaction",
        {
            "timestamp": now.isoformat(timespec="seconds"),
            "id": f"pd-{listing_id}",
            "partner": partner,
        },
    )
    data = ET.SubElement(root, "PropertyDataSet", {"action": "overlay"})
    ET.SubElement(data, "Property").text = listing_id
    room = ET.SubElement(data, "RoomData")
    ET.SubElement(room, "RoomID").text = listing_id  # VR convention: the room is the listing
    ET.SubElement(ET.SubElement(room, "Name"), "Text", {"text": name, "language": "de"})
    ET.SubElement(room, "Capacity").text = str(capacity)
    package = ET.SubElement(data, "PackageData")
    ET.SubElement(package, "PackageID").text = PACKAGE
    ET.SubElement(ET.SubElement(package, "Name"), "Text", {"text": "Standard", "language": "de"})
    return render(root)


def rate_amounts(
    partner: str, listing_id: str, currency: str, runs: Sequence[Run], message_id: str
) -> bytes | None:
    """Nightly prices; ``AmountBeforeTax`` and ``AmountAfterTax`` are both the night's price
    (our nightly prices include VAT; fees and taxes outside the night are Core's quote's)."""
    priced = [r for r in runs if r.values.price_minor is not None]
    if not priced:
        return None
    root = ota_root("OTA_HotelRateAmountNotifRQ", message_id, datetime.now(UTC), NotifType="Delta")
    pos(root, partner)
    messages = ET.SubElement(root, "RateAmountMessages", {"HotelCode": listing_id})
    for run in priced:
        msg = ET.SubElement(messages, "RateAmountMessage")
        status_control(msg, run, listing_id, PACKAGE)
        rate = ET.SubElement(ET.SubElement(msg, "Rates"), "Rate")
        price = amount(run.values.price_minor or 0, currency)
        ET.SubElement(
            ET.SubElement(rate, "BaseByGuestAmts"),
            "BaseByGuestAmt",
            {"AmountBeforeTax": price, "AmountAfterTax": price, "CurrencyCode": currency},
        )
    return render(root)


def merged(runs: Sequence[Run], value: Callable[[NightValues], Any]) -> list[tuple[Run, Any]]:
    """Adjacent runs whose ``value`` is equal, joined: one message per stretch of one
    restriction type, however often the other values (e.g. the price) change within it.
    Runs whose value is None (not synced) are left out."""
    out: list[tuple[Run, Any]] = []
    for run in runs:
        v = value(run.values)
        if v is None:
            continue
        if out and out[-1][1] == v and out[-1][0].end == run.start:
            out[-1] = (Run(out[-1][0].start, run.end, out[-1][0].values), v)
        else:
            out.append((run, v))
    return out


def availability(partner: str, listing_id: str, runs: Sequence[Run], message_id: str) -> bytes:
    """Deltas per restriction type, each over the stretches where it is equal: Master
    Open/Close for every night (Google's Master is closed by default), then min/max stay and
    closed to arrival/departure where the mapping syncs them."""
    root = ota_root("OTA_HotelAvailNotifRQ", message_id, datetime.now(UTC))
    pos(root, partner)
    messages = ET.SubElement(root, "AvailStatusMessages", {"HotelCode": listing_id})

    def message(run: Run) -> ET.Element:
        msg = ET.SubElement(messages, "AvailStatusMessage")
        status_control(msg, run, listing_id, PACKAGE)
        return msg

    for run, sellable in merged(runs, lambda v: v.available is not False):
        ET.SubElement(
            message(run),
            "RestrictionStatus",
            {"Status": "Open" if sellable else "Close", "Restriction": "Master"},
        )
    stays = merged(
        runs,
        lambda v: None if v.min_stay is None and v.max_stay is None else (v.min_stay, v.max_stay),
    )
    for run, (min_stay, max_stay) in stays:
        los = ET.SubElement(message(run), "LengthsOfStay")
        if min_stay is not None:
            ET.SubElement(
                los, "LengthOfStay", {"MinMaxMessageType": "SetMinLOS", "Time": str(min_stay)}
            )
        ET.SubElement(
            los, "LengthOfStay", {"MinMaxMessageType": "SetMaxLOS", "Time": str(max_stay or 0)}
        )
    for restriction, pick in (
        ("Arrival", lambda v: v.closed_to_arrival),
        ("Departure", lambda v: v.closed_to_departure),
    ):
        for run, closed in merged(runs, pick):
            ET.SubElement(
                message(run),
                "RestrictionStatus",
                {"Status": "Close" if closed else "Open", "Restriction": restriction},
            )
    return render(root)


def inventory(partner: str, listing_id: str, runs: Sequence[Run], message_id: str) -> bytes:
    root = ota_root("OTA_HotelInvCountNotifRQ", message_id, datetime.now(UTC))
    pos(root, partner)
    inventories = ET.SubElement(root, "Inventories", {"HotelCode": listing_id})
    for run, count in merged(runs, lambda v: "0" if v.available is False else "1"):
        inv = ET.SubElement(inventories, "Inventory")
        status_control(inv, run, listing_id)
        ET.SubElement(
            ET.SubElement(inv, "InvCounts"), "InvCount", {"Count": count, "CountType": "2"}
        )
    return render(root)


# --- the listing feed and the landing page ----------------------------------------------------


@dataclass(frozen=True)
class ListingInfo:
    listing_id: str
    property_id: str
    name: str
    address_line1: str | None
    city: str | None
    postal_code: str | None
    country: str | None
    latitude: Decimal | None
    longitude: Decimal | None
    capacity: int
    website: str | None


def missing(x: ListingInfo) -> list[str]:
    """What Vacation Rentals require and this listing lacks (Google disables such a listing)."""
    out = []
    if not x.name.strip():
        out.append("name")
    if x.latitude is None:
        out.append("latitude")
    if x.longitude is None:
        out.append("longitude")
    if not (x.address_line1 and x.city and x.country):
        out.append("address")
    if x.capacity < 1:
        out.append("capacity")
    if not x.website:
        out.append("website")
    return out


def hotel_list_feed(listings: Sequence[ListingInfo]) -> bytes:
    """The Hotel List Feed of complete listings (incomplete ones are the caller's warnings)."""
    root = ET.Element("listings")
    ET.SubElement(root, "language").text = "de"
    for x in listings:
        el = ET.SubElement(root, "listing")
        ET.SubElement(el, "id").text = x.listing_id
        ET.SubElement(el, "name").text = x.name
        address = ET.SubElement(el, "address", {"format": "simple"})
        for name, value in (
            ("addr1", x.address_line1),
            ("city", x.city),
            ("postal_code", x.postal_code),
        ):
            if value:
                ET.SubElement(address, "component", {"name": name}).text = value
        ET.SubElement(el, "country").text = x.country or ""
        ET.SubElement(el, "latitude").text = f"{x.latitude:f}" if x.latitude is not None else ""
        ET.SubElement(el, "longitude").text = f"{x.longitude:f}" if x.longitude is not None else ""
        attrs = ET.SubElement(ET.SubElement(el, "content"), "attributes")
        ET.SubElement(attrs, "client_attr", {"name": "capacity"}).text = str(x.capacity)
        ET.SubElement(attrs, "website").text = x.website or ""
    return render(root)


def property_page(base: str, agency_slug: str, property_id: str) -> str:
    return f"{base.rstrip('/')}/{agency_slug}/properties/{property_id}"


def landing_url(
    base: str, agency_slug: str, property_id: str, check_in: date, check_out: date, adults: int
) -> str:
    """Where Google sends a guest: the agency's booking page for that stay."""
    query = urlencode(
        {"check_in": check_in.isoformat(), "check_out": check_out.isoformat(), "adults": adults}
    )
    return f"{property_page(base, agency_slug, property_id)}?{query}"


def landing_template(api_base: str, agency_slug: str) -> str:
    """The Hotel Center landing page template, in Google's variable syntax. Google fills in its
    own hotel id (our listing id), so the template names our landing route, which redirects to
    the property's page on the booking site with the stay (``landing_url``)."""
    return (
        f"{api_base.rstrip('/')}/api/v1/public/{agency_slug}/google/(PARTNER-HOTEL-ID)"
        "?check_in=(CHECKINYEAR)-(CHECKINMONTH)-(CHECKINDAY)"
        "&check_out=(CHECKOUTYEAR)-(CHECKOUTMONTH)-(CHECKOUTDAY)&adults=(NUM-ADULTS)"
    )


# --- the adapter ------------------------------------------------------------------------------

_clients: dict[int, httpx.AsyncClient] = {}


def _client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _clients.get(id(loop))
    if client is None or client.is_closed:
        client = _clients[id(loop)] = httpx.AsyncClient()
    return client


class GoogleAdapter:
    platform = "google"
    window_days = 365

    def __init__(self, settings: Settings) -> None:
        self.base = settings.google_api_base.rstrip("/")
        self.partner = settings.google_partner_key
        self.timeout = settings.channel_http_timeout_seconds

    def _partner(self, credentials: Mapping[str, Any]) -> str:
        return str(credentials.get("partner_key") or self.partner)

    async def _post(self, path: str, body: bytes, what: str) -> None:
        try:
            response = await _client().post(
                f"{self.base}{path}",
                content=body,
                headers={"Content-Type": "application/xml"},
                timeout=self.timeout,
            )
        except httpx.TimeoutException:
            raise PlatformError(f"Google {what}: timed out", retryable=True) from None
        except httpx.TransportError as exc:
            raise PlatformError(f"Google {what}: {type(exc).__name__}", retryable=True) from None
        errors = ota_errors(response.content)
        status = response.status_code
        if status == 403:
            raise CredentialsRefused(f"Google {what}: partner not allowed", status=status)
        if status == 429:
            value = response.headers.get("retry-after")
            raise PlatformError(
                f"Google {what}: rate capped",
                status=status,
                retryable=True,
                retry_after=float(value) if value and value.isdigit() else None,
            )
        if status != 200 or errors:
            # Non-200 means "resend" [DOC]; a 200 with Errors is our message's fault.
            raise PlatformError(
                f"Google {what}: {status} {'; '.join(errors)}"[:500],
                status=status,
                retryable=status != 200,
            )

    async def exchange_code(self, code: str) -> Grant:
        raise Unprocessable(
            "Google Vacation Rentals connects with the Hotel Center partner key.",
            errors=[{"field": "authorization_code", "in": "body", "message": "not supported"}],
        )

    async def check_credentials(self, credentials: Mapping[str, Any]) -> Grant:
        if not 1 <= len(listing_ids(credentials)) <= 5000:
            raise Unprocessable(
                "Google needs the Hotel Center listing ids to publish.",
                errors=[
                    {
                        "field": "credentials.listings",
                        "in": "body",
                        "message": "1..5000 listing ids, comma-separated",
                    }
                ],
            )
        partner = self._partner(credentials)
        return Grant(account_id=partner, credentials={**credentials, "partner_key": partner})

    async def refresh(self, credentials: Mapping[str, Any]) -> Grant:
        return Grant(account_id="", credentials=dict(credentials))

    async def list_listings(self, credentials: Mapping[str, Any]) -> list[RemoteListing]:
        return listing_ids(credentials)

    def batches(self, runs: Sequence[Run]) -> list[Batch]:
        return [Batch(runs=tuple(runs[i : i + MAX_RUNS])) for i in range(0, len(runs), MAX_RUNS)]

    async def describe(
        self, credentials: Mapping[str, Any], listing_id: str, name: str, capacity: int
    ) -> None:
        """Property Data: the listing as its one room type, and our one package."""
        partner = self._partner(credentials)
        await self._post(
            PATHS["property_data"],
            property_data(partner, listing_id, name, capacity),
            "property data",
        )

    async def push_ari(
        self, credentials: Mapping[str, Any], listing_id: str, currency: str, batch: Batch
    ) -> None:
        partner = self._partner(credentials)
        stamp = f"{listing_id}-{batch.runs[0].start}-{datetime.now(UTC).timestamp():.0f}"
        rates = rate_amounts(partner, listing_id, currency, batch.runs, f"r-{stamp}")
        messages = [
            (
                PATHS["inventory"],
                inventory(partner, listing_id, batch.runs, f"i-{stamp}"),
                "inventory",
            ),
            (
                PATHS["avail"],
                availability(partner, listing_id, batch.runs, f"a-{stamp}"),
                "availability",
            ),
        ]
        if rates is not None:
            messages.insert(0, (PATHS["rates"], rates, "rates"))
        for i, (path, body, what) in enumerate(messages):
            await self._post_after(i > 0, path, body, what)

    async def _post_after(self, sent: bool, path: str, body: bytes, what: str) -> None:
        """A later message of a push: refused for the account's update cap (429), it waits as
        long as Google asks and goes again by itself, so the messages before it (applied) are
        not sent again by the engine's retry of the whole push."""
        for attempt in range(1, 6):
            try:
                await self._post(path, body, what)
                return
            except PlatformError as exc:
                if not sent or exc.status != 429 or attempt == 5:
                    raise
                await asyncio.sleep(exc.retry_after or 1.0)
                retried_inside()

    async def read_back(
        self, credentials: Mapping[str, Any], listing_id: str, currency: str, start: date, end: date
    ) -> dict[date, tuple[NightValues, str | None]]:
        raise PlatformError("Google Hotel Center ARI cannot be read back")

    async def pull_bookings(
        self, credentials: Mapping[str, Any], listing_id: str
    ) -> list[InboundReservation]:
        return []  # Google takes no bookings: guests book on our site

    async def ack(self, credentials: Mapping[str, Any], message: InboundMessage) -> None:
        """No inbound messages."""

    async def accept(self, credentials: Mapping[str, Any], code: str) -> None:
        """No bookings on Google."""

    async def decline(self, credentials: Mapping[str, Any], code: str) -> None:
        """No bookings on Google."""

    async def decide_alteration(
        self, credentials: Mapping[str, Any], alteration_id: str, accept: bool
    ) -> None:
        raise PlatformError("Google takes no bookings")

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> VerifiedWebhook:
        raise InvalidWebhook("Google sends no webhooks")

    def parse_message(self, body: bytes) -> InboundMessage:
        raise InvalidWebhook("Google sends no webhooks")
