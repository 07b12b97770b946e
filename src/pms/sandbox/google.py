"""Google Vacation Rentals (Hotel Center ARI push) simulator: property data, availability, rates
and inventory counts, with Overlay/Delta/Remove semantics. A partner key (``RequestorID@ID`` or
``Transaction@partner``) stands in for Google's IP allow-list.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, Field

from pms.sandbox import ota, xmlsafe
from pms.sandbox.accounts import PerAccount
from pms.sandbox.clock import SimClock
from pms.sandbox.control import ControlError, GuestBooking, GuestChange
from pms.sandbox.days import Calendar, DayState, DayView, nights
from pms.sandbox.faults import FaultInjection, Faults
from pms.sandbox.ota import OtaError, q
from pms.sandbox.ratelimit import SlidingWindow

XML = "application/xml"
WEEKDAYS = ("Mon", "Tue", "Weds", "Thur", "Fri", "Sat", "Sun")  # Google's own spelling
LOS_TYPES = {"SetMinLOS", "SetMaxLOS", "SetForwardMinStay", "SetForwardMaxStay", "FullPatternLOS"}
MAX_DAYS_AHEAD = 3 * 366  # [GUESS]


class GoogleConfig(BaseModel):
    # Hotel Center's "default availability": what a night nobody opened or closed shows.
    # Google documents Restriction="Master" as closed by default.
    default_availability: Literal["closed", "open"] = "closed"


class PropertyCreate(BaseModel):
    partner: str = Field(default="pms_partner_key", min_length=1, max_length=100)


class Refused(Exception):
    def __init__(self, status: int, error: OtaError, retry_after: int | None = None) -> None:
        super().__init__(error.short_text)
        self.status = status
        self.error = error
        self.retry_after = retry_after


@dataclass
class Property:
    id: str
    partner: str
    rooms: dict[str, dict[str, Any]] = field(default_factory=dict)
    packages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def knows_room(self, room: str) -> bool:
        # Vacation-rental convention: InvTypeCode equal to HotelCode (one unit per listing).
        return room == self.id or room in self.rooms

    def knows_package(self, package: str) -> bool:
        return not self.packages or package in self.packages


def seed_properties() -> dict[str, Property]:
    props = [
        Property("fewo-42", "pms_partner_key"),
        Property("fewo-43", "pms_partner_key"),
        Property("other-1", "other_partner_key"),
    ]
    return {p.id: p for p in props}


def _bad(code: int, short: str, text: str, record: str | None = None) -> Refused:
    return Refused(200, OtaError(3, code, short, text, record))


def _amount(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise _bad(320, "Invalid value", f"not an amount: {value!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise _bad(320, "Invalid value", f"not an amount: {value!r}")
    return amount


class GoogleSimulator:
    name = "google"

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.faults = Faults()
        self.reset()

    def reset(self) -> None:
        self.config = GoogleConfig()
        self.properties = seed_properties()
        self.calendar = Calendar()
        # An account-level update cap is documented; its number was not captured.
        self.limiter = SlidingWindow(1000, 60.0, self.clock.seconds)
        self.overrides = PerAccount(self.clock.seconds)  # accounts: partner keys
        self.faults.clear()

    def webhook_target(self) -> dict[str, Any]:
        """Google sends the PMS nothing: guests book on the partner's own site."""
        return {"delivery": "none", "url": None}

    # --- common checks --------------------------------------------------------------------

    def partner_of(self, root: ET.Element) -> str:
        if xmlsafe.local(root.tag) == "Transaction":
            key = root.get("partner")
        else:
            requestor = root.find(f"{q('POS')}/{q('Source')}/{q('RequestorID')}")
            key = requestor.get("ID") if requestor is not None else None
        partners = {p.partner for p in self.properties.values()}
        if not key or key not in partners or self.faults.credentials_expired:
            raise Refused(
                403, OtaError(6, 497, "Unauthorized", "Unknown partner (not on the allow-list)")
            )
        if (wait := self.overrides.hit(key, self.limiter)) is not None:
            raise Refused(
                429,
                OtaError(
                    12, 450, "Too many updates", f"Account update rate exceeded; retry in {wait}s"
                ),
                retry_after=wait,
            )
        return key

    def property_for(self, partner: str, code: str | None) -> Property:
        prop = self.properties.get(code or "")
        if prop is None or prop.partner != partner:
            raise _bad(392, "Invalid hotel code", f"Property {code!r} is not in your account")
        return prop

    def _span(self, sac: ET.Element) -> list[date]:
        try:
            start = xmlsafe.parse_date(sac.get("Start"))
            end = xmlsafe.parse_date(sac.get("End"))
        except ValueError as exc:
            raise _bad(15, "Invalid date", str(exc)) from exc
        today = self.clock.now().date()
        if (
            end < start
            or end < today - timedelta(days=1)
            or end > today + timedelta(days=MAX_DAYS_AHEAD)
        ):
            raise _bad(404, "Invalid start date-end date combination", f"{start}..{end}")
        flags = {d: sac.get(d) for d in WEEKDAYS if sac.get(d) is not None}
        for name, value in flags.items():
            if value not in ("true", "false", "1", "0"):
                raise _bad(320, "Invalid value", f"{name} must be a boolean")
        if not flags:
            return list(nights(start, end))
        return [n for n in nights(start, end) if flags.get(WEEKDAYS[n.weekday()]) in ("true", "1")]

    def _room_rate(self, prop: Property, sac: ET.Element, rate_required: bool) -> tuple[str, str]:
        room, rate = sac.get("InvTypeCode") or "", sac.get("RatePlanCode") or ""
        if not prop.knows_room(room):
            raise _bad(402, "Invalid room type code", f"Unknown InvTypeCode {room!r}")
        if rate_required and not rate:
            raise _bad(321, "Required field missing", "RatePlanCode is required")
        if rate and not prop.knows_package(rate):
            raise _bad(249, "Invalid rate code", f"Unknown RatePlanCode {rate!r}")
        return room, rate

    # --- messages -------------------------------------------------------------------------

    def property_data(self, root: ET.Element, partner: str) -> None:
        sets = root.findall("PropertyDataSet")
        if not sets:
            raise _bad(321, "Required field missing", "PropertyDataSet is required")
        for data_set in sets:
            action = data_set.get("action", "overlay")
            if action not in ("overlay", "delta"):
                raise _bad(320, "Invalid value", "PropertyDataSet@action: overlay|delta")
            prop = self.property_for(partner, (data_set.findtext("Property") or "").strip())
            rooms: dict[str, dict[str, Any]] = {}
            for room in data_set.findall("RoomData"):
                name = room.find("Name/Text")
                rooms[(room.findtext("RoomID") or "").strip()] = {
                    "name": name.get("text") if name is not None else None,
                    "capacity": room.findtext("Capacity"),
                }
            packages: dict[str, dict[str, Any]] = {
                (p.findtext("PackageID") or "").strip(): {} for p in data_set.findall("PackageData")
            }
            if "" in rooms or "" in packages:
                raise _bad(321, "Required field missing", "RoomID and PackageID are required")
            if action == "overlay":
                prop.rooms, prop.packages = rooms, packages  # overlay replaces what was there
            else:
                prop.rooms |= rooms
                prop.packages |= packages

    def avail(self, root: ET.Element, partner: str) -> None:
        container = root.find(q("AvailStatusMessages"))
        if container is None:
            raise _bad(321, "Required field missing", "AvailStatusMessages is required")
        prop = self.property_for(partner, container.get("HotelCode"))
        plan = []
        for msg in container.findall(q("AvailStatusMessage")):
            sac = msg.find(q("StatusApplicationControl"))
            if sac is None:
                raise _bad(321, "Required field missing", "StatusApplicationControl")
            days = self._span(sac)
            room, rate = self._room_rate(prop, sac, rate_required=False)
            limit = msg.get("BookingLimit")
            if limit is not None and not limit.isdigit():
                raise _bad(320, "Invalid value", "BookingLimit must be a whole number >= 0")
            stays = {}
            for los in msg.findall(f"{q('LengthsOfStay')}/{q('LengthOfStay')}"):
                kind, time = los.get("MinMaxMessageType"), los.get("Time", "0")
                if kind not in LOS_TYPES or not time.isdigit():
                    raise _bad(320, "Invalid value", f"LengthOfStay {kind!r} Time {time!r}")
                stays[kind] = int(time)
            status = msg.find(q("RestrictionStatus"))
            if status is not None and (
                status.get("Status") not in ("Open", "Close")
                or status.get("Restriction", "Master") not in ("Master", "Arrival", "Departure")
            ):
                raise _bad(320, "Invalid value", "RestrictionStatus Status/Restriction")
            plan.append((days, room, rate, limit, stays, status))
        if not plan:
            raise _bad(321, "Required field missing", "AvailStatusMessage")
        # Each message is a delta per restriction type: only what it names changes.
        for span, room_id, rate_id, booking_limit, stay_limits, restriction in plan:
            for night in span:
                if booking_limit is not None:
                    self.calendar.day((prop.id, room_id, ""), night).units = int(booking_limit)
                day = self.calendar.day((prop.id, room_id, rate_id), night)
                if "SetMinLOS" in stay_limits:
                    day.min_stay = stay_limits["SetMinLOS"] or None
                if "SetMaxLOS" in stay_limits:
                    day.max_stay = stay_limits["SetMaxLOS"] or None
                if restriction is not None:
                    closed = restriction.get("Status") == "Close"
                    match restriction.get("Restriction", "Master"):
                        case "Arrival":
                            day.closed_to_arrival = closed
                        case "Departure":
                            day.closed_to_departure = closed
                        case _:
                            day.closed = closed

    def rates(self, root: ET.Element, partner: str) -> None:
        notif = root.get("NotifType", "Delta")  # [GUESS] default when absent
        if notif not in ("Overlay", "Delta", "Remove"):
            raise _bad(320, "Invalid value", "NotifType: Overlay|Delta|Remove")
        container = root.find(q("RateAmountMessages"))
        if container is None:
            raise _bad(321, "Required field missing", "RateAmountMessages is required")
        prop = self.property_for(partner, container.get("HotelCode"))
        plan = []
        for msg in container.findall(q("RateAmountMessage")):
            sac = msg.find(q("StatusApplicationControl"))
            if sac is None:
                raise _bad(321, "Required field missing", "StatusApplicationControl")
            days = self._span(sac)
            room, rate = self._room_rate(prop, sac, rate_required=True)
            prices: dict[int | None, Decimal] = {}
            before_tax: Decimal | None = None
            currency = None
            for amt in msg.findall(f".//{q('BaseByGuestAmt')}"):
                before = _amount(amt.get("AmountBeforeTax"))
                value = _amount(amt.get("AmountAfterTax")) or before
                currency = amt.get("CurrencyCode")
                guests = amt.get("NumberOfGuests")
                if (
                    value is None
                    or not currency
                    or len(currency) != 3
                    or (guests is not None and not guests.isdigit())
                ):
                    raise _bad(
                        321,
                        "Required field missing",
                        "BaseByGuestAmt needs an amount and a CurrencyCode",
                    )
                prices[int(guests) if guests else None] = value
                if guests is None:
                    before_tax = before
            if notif != "Remove" and not prices:
                raise _bad(321, "Required field missing", "BaseByGuestAmt is required")
            plan.append((days, room, rate, prices, currency, before_tax))
        if not plan:
            raise _bad(321, "Required field missing", "RateAmountMessage")
        for span, room_id, rate_id, amounts, amount_currency, amount_before_tax in plan:
            for night in span:
                day = self.calendar.day((prop.id, room_id, rate_id), night)
                if notif in ("Overlay", "Remove"):
                    day.price, day.currency, day.prices_by_occupancy = None, None, {}
                    day.price_before_tax = None
                if notif == "Remove":
                    continue
                day.currency = amount_currency
                if amount_before_tax is not None:
                    day.price_before_tax = amount_before_tax
                for occupancy, amount in amounts.items():
                    if occupancy is None:
                        day.price = amount
                    else:
                        day.prices_by_occupancy[occupancy] = amount

    def inventory(self, root: ET.Element, partner: str) -> None:
        container = root.find(q("Inventories"))
        if container is None:
            raise _bad(321, "Required field missing", "Inventories is required")
        prop = self.property_for(partner, container.get("HotelCode"))
        plan = []
        for inv in container.findall(q("Inventory")):
            sac = inv.find(q("StatusApplicationControl"))
            count = inv.find(f"{q('InvCounts')}/{q('InvCount')}")
            if sac is None or count is None:
                raise _bad(321, "Required field missing", "StatusApplicationControl, InvCount")
            days = self._span(sac)
            room, _ = self._room_rate(prop, sac, rate_required=False)
            value, kind = count.get("Count", ""), count.get("CountType")
            if not value.isdigit() or kind != "2":
                raise _bad(320, "Invalid value", "InvCount needs Count >= 0 and CountType 2")
            plan.append((days, room, int(value)))
        for span, room_id, count_value in plan:
            for night in span:
                self.calendar.day((prop.id, room_id, ""), night).units = count_value

    # --- the platform's view --------------------------------------------------------------

    def days(self, listing_id: str, start: date, end: date) -> list[DayView]:
        prop = self.properties.get(listing_id)
        if prop is None:
            raise ControlError(404, f"no property {listing_id}")
        out = []
        for key in self.calendar.keys_for(listing_id):
            if not key[2]:
                continue
            for night in nights(start, end):
                unit = self.calendar.get((listing_id, key[1], ""), night) or DayState()
                day = self.calendar.get(key, night) or DayState()
                out.append(
                    DayView(
                        date=night,
                        room_id=key[1],
                        rate_plan_id=key[2],
                        available=bool(unit.units) and self._open(unit, day),
                        units=unit.units,
                        price=day.price,
                        price_before_tax=day.price_before_tax,
                        currency=day.currency,
                        prices_by_occupancy=day.prices_by_occupancy,
                        min_stay=day.min_stay,
                        max_stay=day.max_stay,
                        closed_to_arrival=bool(day.closed_to_arrival),
                        closed_to_departure=bool(day.closed_to_departure),
                    )
                )
        return out

    def _open(self, unit: DayState, day: DayState) -> bool:
        """Master status: a close on the room or the rate closes the night; a night nobody
        opened shows the account's default availability (closed unless configured open)."""
        if day.closed or unit.closed:
            return False
        if day.closed is False or unit.closed is False:
            return True
        return self.config.default_availability == "open"

    async def create_booking(self, booking: GuestBooking) -> dict[str, Any]:
        raise ControlError(
            501,
            "Google Vacation Rentals takes no bookings: guests are sent to "
            "the partner's own booking page",
        )

    async def modify_booking(self, booking_id: str, change: GuestChange) -> dict[str, Any]:
        raise ControlError(501, "Google Vacation Rentals takes no bookings")

    async def cancel_booking(self, booking_id: str) -> dict[str, Any]:
        raise ControlError(501, "Google Vacation Rentals takes no bookings")


def create_google_app(sim: GoogleSimulator) -> Any:
    app = FastAPI(
        title="Google Vacation Rentals (sandbox)", redirect_slashes=False, openapi_url=None
    )

    def respond(
        rs_name: str,
        echo: str | None,
        status: int = 200,
        error: OtaError | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        attrs = {"Version": "3.0"} | ({"EchoToken": echo} if echo else {})
        if rs_name == "TransactionResponse":  # [GUESS] Property Data answer shape
            root = ET.Element(rs_name, {"timestamp": sim.clock.now().isoformat()})
        else:
            root = ota.root(rs_name, sim.clock.now(), **attrs)
        if error is None:
            ET.SubElement(root, "Success")
        else:
            ota.add_errors(root, [error])
        return Response(ota.render(root, ruid=False), status, headers, media_type=XML)

    async def handle(request: Request, rq_name: str, rs_name: str, action: Any) -> Response:
        echo = None
        try:
            root = xmlsafe.parse(await request.body())
            echo = root.get("EchoToken")
            expected = rq_name if rq_name == "Transaction" else q(rq_name)
            if root.tag != expected:
                raise Refused(
                    400, OtaError(7, 450, "Wrong message type", f"Expected {rq_name} at this path")
                )
            partner = sim.partner_of(root)
            injected = await sim.overrides.fault(partner, request.method, request.url.path)
            if injected is not None:
                raise Refused(
                    403 if injected.status == 401 else injected.status,
                    OtaError(6, 497, "Unauthorized", injected.message)
                    if injected.status == 401
                    else OtaError(12, 448, "System error", injected.message),
                    retry_after=injected.retry_after_s,
                )
            action(root, partner)
        except xmlsafe.MalformedXml as exc:
            return respond(rs_name, echo, 400, OtaError(7, 450, "Malformed XML", str(exc)))
        except Refused as exc:
            headers = None
            if exc.retry_after is not None:
                headers = {"Retry-After": str(exc.retry_after)}
            return respond(rs_name, echo, exc.status, exc.error, headers)
        return respond(rs_name, echo)

    @app.post("/travel/hotels/uploads/property_data")
    async def property_data(request: Request) -> Response:
        return await handle(request, "Transaction", "TransactionResponse", sim.property_data)

    @app.post("/travel/hotels/uploads/ota/hotel_avail_notif")
    async def avail(request: Request) -> Response:
        return await handle(request, "OTA_HotelAvailNotifRQ", "OTA_HotelAvailNotifRS", sim.avail)

    @app.post("/travel/hotels/uploads/ota/hotel_rate_amount_notif")
    async def rates(request: Request) -> Response:
        return await handle(
            request, "OTA_HotelRateAmountNotifRQ", "OTA_HotelRateAmountNotifRS", sim.rates
        )

    @app.post("/travel/hotels/uploads/ota/hotel_inv_count_notif")
    async def inventory(request: Request) -> Response:
        return await handle(
            request, "OTA_HotelInvCountNotifRQ", "OTA_HotelInvCountNotifRS", sim.inventory
        )

    def render_fault(status: int, message: str) -> tuple[bytes, str]:
        root = ota.root("OTA_HotelAvailNotifRS", sim.clock.now(), Version="3.0")
        ota.add_errors(root, [OtaError(12, 448, "System error", message)])
        return ota.render(root, ruid=False), XML

    return FaultInjection(app, sim.faults, render_fault)


def google_control_router(sim: GoogleSimulator) -> APIRouter:
    router = APIRouter(prefix="/control/google", tags=["control: google"])

    @router.put("/config", summary="Hotel Center settings: default availability")
    async def configure(config: GoogleConfig) -> GoogleConfig:
        sim.config = config
        return config

    @router.put("/properties/{property_id}", summary="Add a property to a partner's account")
    async def add_property(property_id: str, body: PropertyCreate) -> dict[str, str]:
        if not property_id or len(property_id) > 100:
            raise HTTPException(422, "property id: 1..100 characters")
        existing = sim.properties.get(property_id)
        if existing is not None and existing.partner != body.partner:
            raise HTTPException(409, "the property belongs to another partner")
        if existing is None:
            sim.properties[property_id] = Property(property_id, body.partner)
        return {"id": property_id, "partner": body.partner}

    @router.get("/properties/{property_id}", summary="Property Data Google holds")
    async def get_property(property_id: str) -> dict[str, Any]:
        prop = sim.properties.get(property_id)
        if prop is None:
            raise HTTPException(404, f"no property {property_id}")
        return {"id": prop.id, "rooms": prop.rooms, "packages": sorted(prop.packages)}

    return router
