"""EQC simulator state: accounts, ARI calendar, bookings going pending, retrieved, confirmed."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pms.sandbox import xmlsafe
from pms.sandbox.accounts import PerAccount
from pms.sandbox.clock import SimClock
from pms.sandbox.control import ControlError, GuestBooking, GuestChange
from pms.sandbox.days import Calendar, DayView, nights, stay_nights
from pms.sandbox.expedia import eqc
from pms.sandbox.expedia.eqc import EqcRefused
from pms.sandbox.faults import Faults
from pms.sandbox.ratelimit import SlidingWindow

BookingType = Literal["Book", "Modify", "Cancel"]
MAX_DAYS_AHEAD = 2 * 366  # [GUESS]


@dataclass
class Account:
    username: str
    password: str
    # hotel -> room type -> rate plans
    hotels: dict[str, dict[str, set[str]]]


def seed_accounts() -> dict[str, Account]:
    return {
        a.username: a
        for a in (
            Account(
                "EQCsandbox",
                "eqc-pass",
                {
                    "12933870": {"201357986": {"206651831A", "206651832"}},
                    "12933871": {"201357990": {"206651840"}},
                },
            ),
            Account("EQCother", "other-pass", {"12939999": {"201359999": {"206659999"}}}),
        )
    }


@dataclass
class Stay:
    hotel_id: str
    room_id: str
    rate_id: str
    arrival: date
    departure: date
    adults: int
    children: int
    given_name: str
    surname: str
    phone: str
    nightly: Decimal
    currency: str


@dataclass
class Message:
    """One Book, Modify or Cancel transaction of a booking, as BR returns and BC confirms it."""

    booking_id: str
    type: BookingType
    stay: Stay
    created_at: datetime
    status: Literal["pending", "retrieved", "confirmed"] = "pending"
    confirm_number: str | None = None
    confirm_time: str | None = None
    # BC confirmations accepted for this message (the first one confirmed it; a repeat with
    # the same number is accepted and changes nothing, but is counted)
    confirmations: int = 0


@dataclass
class Booking:
    id: str
    messages: list[Message] = field(default_factory=list)

    @property
    def current(self) -> Message:
        return self.messages[-1]

    @property
    def hotel_confirm_number(self) -> str | None:
        """The PMS's number from the Book confirmation: echoed on later Modify/Cancel."""
        return next((m.confirm_number for m in self.messages if m.type == "Book"), None)


def _text_bool(value: str | None, where: str) -> bool | None:
    if value is None:
        return None
    if value not in ("true", "false"):
        raise EqcRefused(eqc.MISSING_OR_INVALID, f"{where}: expected true or false")
    return value == "true"


def _int(value: str | None, where: str, low: int = 0, high: int = 9999) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not low <= int(value) <= high:
        raise EqcRefused(eqc.MISSING_OR_INVALID, f"{where}: expected {low}..{high}")
    return int(value)


def _amount(value: str | None, where: str) -> Decimal:
    try:
        amount = Decimal(value or "")
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or amount <= 0:
        raise EqcRefused(eqc.MISSING_OR_INVALID, f"{where}: a positive amount is required")
    return amount


class ExpediaSimulator:
    name = "expedia"

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.faults = Faults()
        self.reset()

    def reset(self) -> None:
        self.accounts = seed_accounts()
        self.calendar = Calendar()
        self.bookings: dict[str, Booking] = {}
        self._ids = itertools.count(2_543_453_200)
        self._hotel_ids = itertools.count(13_000_001)
        self._busy: set[tuple[str, str]] = set()
        # Time spent "processing" while holding the connection slot (lets tests overlap calls).
        self.processing_delay_s = 0.0
        # bookingID -> how many more BC confirmations of it to refuse with warning 10081
        self.refuse_confirmations: dict[str, int] = {}
        # [GUESS] no numeric limit is documented for EQC
        self.limiter = SlidingWindow(600, 60.0, self.clock.seconds)
        self.overrides = PerAccount(self.clock.seconds)  # accounts: EQC usernames
        self.faults.clear()

    def webhook_target(self) -> dict[str, Any]:
        """EQC pushes nothing: bookings wait for the PMS's BR (and its BC)."""
        return {"delivery": "pull", "url": None, "queues": ["BR"]}

    def create_hotels(
        self, count: int, username: str, password: str | None
    ) -> tuple[dict[str, str], list[dict[str, str]]]:
        """``count`` new hotels of one room type and one rate plan each, in the EQC account
        ``username`` (created with ``password`` when it does not exist; a new password when
        none is given). Returns the account's credentials and the hotels."""
        account = self.accounts.get(username)
        if account is None:
            account = Account(username, password or secrets.token_urlsafe(12), {})
            self.accounts[username] = account
        elif password is not None and not secrets.compare_digest(password, account.password):
            raise ControlError(409, f"Account {username} exists with another password")
        out = []
        for _ in range(count):
            hotel_id = str(next(self._hotel_ids))
            room_id, rate_id = f"{hotel_id}1", f"{hotel_id}A"
            account.hotels[hotel_id] = {room_id: {rate_id}}
            out.append(
                {
                    "hotel_id": hotel_id,
                    "room_id": room_id,
                    "rate_plan_id": rate_id,
                    "listing_id": f"{hotel_id}/{room_id}/{rate_id}",
                }
            )
        return {"username": account.username, "password": account.password}, out

    # --- authentication and the one-connection rule ---------------------------------------

    def authenticate(self, root: ET.Element) -> Account:
        first = root[0] if len(root) else None
        if first is None or xmlsafe.local(first.tag) != "Authentication":
            raise EqcRefused(eqc.AUTH_FAILED, "Authentication must be the first element")
        account = self.accounts.get(first.get("username", ""))
        if (
            account is None
            or self.faults.credentials_expired
            or not secrets.compare_digest(first.get("password", ""), account.password)
        ):
            raise EqcRefused(eqc.AUTH_FAILED, "Authentication error: invalid username or password")
        return account

    def hotel_of(
        self, root: ET.Element, ns: str, account: Account, required: bool = True
    ) -> str | None:
        hotel = root.find(f"{{{ns}}}Hotel")
        if hotel is None or not hotel.get("id"):
            if required:
                raise EqcRefused(eqc.MISSING_OR_INVALID, "Hotel id is required")
            return None
        hotel_id = hotel.get("id", "")
        if hotel_id not in account.hotels:
            if any(hotel_id in a.hotels for a in self.accounts.values()):
                raise EqcRefused(
                    eqc.NOT_AUTHORIZED_FOR_HOTEL, f"User is not authorized for hotel {hotel_id}"
                )
            raise EqcRefused(eqc.UNKNOWN_HOTEL, f"Hotel {hotel_id} is not an active hotel")
        return hotel_id

    @asynccontextmanager
    async def connection(self, api: str, key: str) -> AsyncIterator[None]:
        """Documented: at most one concurrent connection per hotel and API (BR: per account)."""
        slot = (api, key)
        if slot in self._busy:
            raise EqcRefused(
                eqc.CONCURRENT_CONNECTION, f"Another {api.upper()} request for {key} is in progress"
            )
        self._busy.add(slot)
        try:
            if self.processing_delay_s:
                await asyncio.sleep(self.processing_delay_s)
            yield
        finally:
            self._busy.discard(slot)

    # --- AR -------------------------------------------------------------------------------

    def apply_ar(self, root: ET.Element, ns: str, account: Account, hotel_id: str) -> None:
        """All or nothing: every update is checked before any is applied."""
        rooms = account.hotels[hotel_id]
        today = self.clock.now().date()
        updates = root.findall(f"{{{ns}}}AvailRateUpdate")
        if not updates:
            raise EqcRefused(eqc.MISSING_OR_INVALID, "At least one AvailRateUpdate is required")
        plan: list[tuple[date, date, ET.Element]] = []
        for update in updates:
            span = update.find(f"{{{ns}}}DateRange")
            if span is None:
                raise EqcRefused(eqc.MISSING_OR_INVALID, "DateRange is required")
            try:
                start = xmlsafe.parse_date(span.get("from"))
                end = xmlsafe.parse_date(span.get("to"))
            except ValueError as exc:
                raise EqcRefused(eqc.INVALID_DATES, str(exc)) from exc
            if (
                end < start
                or start < today - timedelta(days=1)
                or end > today + timedelta(days=MAX_DAYS_AHEAD)
            ):
                raise EqcRefused(eqc.INVALID_DATES, f"Invalid date range {start}..{end}")
            for room in update.findall(f"{{{ns}}}RoomType"):
                room_id = room.get("id", "")
                if room_id not in rooms:
                    raise EqcRefused(
                        eqc.ROOM_NOT_IN_HOTEL,
                        f"The following RoomTypeIDs do not belong to the given hotel: {room_id}",
                    )
                _text_bool(room.get("closed"), "RoomType@closed")
                inventory = room.find(f"{{{ns}}}Inventory")
                if inventory is not None:
                    _int(inventory.get("totalInventoryAvailable"), "totalInventoryAvailable")
                    _int(inventory.get("flexibleAllocation"), "flexibleAllocation")
                for rate in room.findall(f"{{{ns}}}RatePlan"):
                    self._check_rate_plan(rate, ns, rooms[room_id])
                plan.append((start, end, room))
        if not plan:
            raise EqcRefused(eqc.MISSING_OR_INVALID, "At least one RoomType is required")
        for start, end, room in plan:
            self._apply_room(hotel_id, start, end, room, ns)

    def _check_rate_plan(self, rate: ET.Element, ns: str, plans: set[str]) -> None:
        if rate.get("id") not in plans:
            raise EqcRefused(
                eqc.RATE_NOT_IN_ROOM,
                f"The following RatePlanIDs do not belong to the given room type: {rate.get('id')}",
            )
        _text_bool(rate.get("closed"), "RatePlan@closed")
        for amount in rate.findall(f"{{{ns}}}Rate"):
            if len(amount.get("currency", "")) != 3:
                raise EqcRefused(eqc.MISSING_OR_INVALID, "Rate@currency is required")
            _int(amount.get("lengthOfStay"), "lengthOfStay", 1, 28)
            for per_day in amount.findall(f"{{{ns}}}PerDay"):
                _amount(per_day.get("rate"), "PerDay@rate")
            for per_occ in amount.findall(f"{{{ns}}}PerOccupancy"):
                _amount(per_occ.get("rate"), "PerOccupancy@rate")
                _int(per_occ.get("occupancy"), "PerOccupancy@occupancy", 1, 20)
        restrictions = rate.find(f"{{{ns}}}Restrictions")
        if restrictions is not None:
            _text_bool(restrictions.get("closedToArrival"), "closedToArrival")
            _text_bool(restrictions.get("closedToDeparture"), "closedToDeparture")
            low = _int(restrictions.get("minLOS"), "minLOS", 1, 28)
            high = _int(restrictions.get("maxLOS"), "maxLOS", 1, 28)
            if low and high and high < low:
                raise EqcRefused(eqc.MISSING_OR_INVALID, "maxLOS must not be below minLOS")

    def _apply_room(self, hotel_id: str, start: date, end: date, room: ET.Element, ns: str) -> None:
        room_id = room.get("id", "")
        closed = _text_bool(room.get("closed"), "")
        inventory = room.find(f"{{{ns}}}Inventory")
        for night in nights(start, end):
            day = self.calendar.day((hotel_id, room_id, ""), night)
            if closed is not None:
                day.closed = closed
            if inventory is not None:
                total = inventory.get("totalInventoryAvailable") or inventory.get(
                    "flexibleAllocation"
                )
                if total is not None:
                    day.units = int(total)
            for rate in room.findall(f"{{{ns}}}RatePlan"):
                self._apply_rate((hotel_id, room_id, rate.get("id", "")), night, rate, ns)

    def _apply_rate(
        self, key: tuple[str, str, str], night: date, rate: ET.Element, ns: str
    ) -> None:
        day = self.calendar.day(key, night)
        if (closed := _text_bool(rate.get("closed"), "")) is not None:
            day.closed = closed
        for amount in rate.findall(f"{{{ns}}}Rate"):
            if amount.get("lengthOfStay") not in (None, "1"):
                continue  # [GUESS] LOS-specific rates are accepted but not modelled
            day.currency = amount.get("currency")
            for per_day in amount.findall(f"{{{ns}}}PerDay"):
                self.calendar.set_price(key, night, Decimal(per_day.get("rate", "")))
            for per_occ in amount.findall(f"{{{ns}}}PerOccupancy"):
                day.prices_by_occupancy[int(per_occ.get("occupancy", ""))] = Decimal(
                    per_occ.get("rate", "")
                )
        restrictions = rate.find(f"{{{ns}}}Restrictions")
        if restrictions is not None:
            if (cta := _text_bool(restrictions.get("closedToArrival"), "")) is not None:
                day.closed_to_arrival = cta
            if (ctd := _text_bool(restrictions.get("closedToDeparture"), "")) is not None:
                day.closed_to_departure = ctd
            if restrictions.get("minLOS") is not None:
                day.min_stay = int(restrictions.get("minLOS", ""))
            if restrictions.get("maxLOS") is not None:
                day.max_stay = int(restrictions.get("maxLOS", ""))

    # --- BR and BC ------------------------------------------------------------------------

    def retrieve(
        self,
        account: Account,
        hotel_id: str | None,
        booking_id: str | None,
        days_in_past: int | None,
        statuses: set[str],
    ) -> list[tuple[Message, str]]:
        """Matching messages, each with the status it had when retrieved (pending ones are
        retrieved from now on)."""
        hotels = {hotel_id} if hotel_id else set(account.hotels)
        since = self.clock.now() - timedelta(days=days_in_past) if days_in_past else None
        found: list[Message] = []
        for booking in self.bookings.values():
            for msg in booking.messages:
                if msg.stay.hotel_id not in hotels:
                    continue
                if booking_id is not None:
                    if booking.id == booking_id and msg is booking.current:
                        found.append(msg)
                elif since is not None:
                    if msg.created_at >= since:
                        found.append(msg)
                elif msg.status in statuses:
                    found.append(msg)
        found.sort(key=lambda m: m.created_at, reverse=True)  # newest first
        out: list[tuple[Message, str]] = [(m, m.status) for m in found[: eqc.MAX_BR_BOOKINGS]]
        for msg, _ in out:
            if msg.status == "pending":
                msg.status = "retrieved"
        return out

    def confirm(
        self, account: Account, hotel_id: str, numbers: list[ET.Element]
    ) -> list[tuple[str, str]]:
        """Record confirm numbers; returns (bookingID, reason) for each refused update."""
        refused: list[tuple[str, str]] = []
        for number in numbers:
            booking_id, kind = number.get("bookingID", ""), number.get("bookingType", "")
            confirm, at = number.get("confirmNumber", ""), number.get("confirmTime", "")
            if kind not in ("Book", "Modify", "Cancel") or not confirm or len(confirm) > 32:
                raise EqcRefused(
                    eqc.MISSING_OR_INVALID,
                    "BookingConfirmNumber needs bookingID, "
                    "bookingType Book|Modify|Cancel and confirmNumber (<= 32)",
                )
            booking = self.bookings.get(booking_id)
            of_kind = [m for m in booking.messages if m.type == kind] if booking else []
            if self.refuse_confirmations.get(booking_id):
                self.refuse_confirmations[booking_id] -= 1
                refused.append((booking_id, "Update refused: the booking is being processed"))
                continue
            if not of_kind or of_kind[-1].stay.hotel_id != hotel_id:
                refused.append(
                    (
                        booking_id,
                        f"Update refused: no {kind} booking {booking_id} for hotel {hotel_id}",
                    )
                )
                continue
            # One confirmation covers every message of the type not yet confirmed; with none
            # left it repeats the newest one's (accepted, if it is the same number).
            unconfirmed = [m for m in of_kind if m.status != "confirmed"] or [of_kind[-1]]
            if any(m.status == "confirmed" and m.confirm_number != confirm for m in unconfirmed):
                refused.append(
                    (
                        booking_id,
                        f"Update refused: already confirmed as {unconfirmed[0].confirm_number}",
                    )
                )
                continue
            for msg in unconfirmed:
                if msg.status != "confirmed":
                    msg.status, msg.confirm_number, msg.confirm_time = "confirmed", confirm, at
                msg.confirmations += 1
        return refused

    # --- the platform's view and guests ---------------------------------------------------

    def _owner(self, hotel_id: str) -> dict[str, set[str]]:
        for account in self.accounts.values():
            if hotel_id in account.hotels:
                return account.hotels[hotel_id]
        raise ControlError(404, f"no hotel {hotel_id}")

    def days(self, listing_id: str, start: date, end: date) -> list[DayView]:
        out = []
        for room_id, rates in sorted(self._owner(listing_id).items()):
            for rate_id in sorted(rates):
                for night in nights(start, end):
                    room = self.calendar.get((listing_id, room_id, ""), night)
                    rate = self.calendar.get((listing_id, room_id, rate_id), night)
                    units = room.units if room else None
                    out.append(
                        DayView(
                            date=night,
                            room_id=room_id,
                            rate_plan_id=rate_id,
                            available=bool(units)
                            and not (room and room.closed)
                            and not (rate and rate.closed),
                            units=units,
                            price=rate.price if rate else None,
                            currency=rate.currency if rate else None,
                            prices_by_occupancy=rate.prices_by_occupancy if rate else {},
                            min_stay=rate.min_stay if rate else None,
                            max_stay=rate.max_stay if rate else None,
                            closed_to_arrival=bool(rate and rate.closed_to_arrival),
                            closed_to_departure=bool(rate and rate.closed_to_departure),
                        )
                    )
        return out

    def _take(self, stay: Stay, delta: int) -> None:
        for night in stay_nights(stay.arrival, stay.departure):
            day = self.calendar.day((stay.hotel_id, stay.room_id, ""), night)
            if day.units is not None:
                day.units = max(0, day.units + delta)

    def _sellable(self, stay: Stay) -> bool:
        for night in stay_nights(stay.arrival, stay.departure):
            room = self.calendar.get((stay.hotel_id, stay.room_id, ""), night)
            rate = self.calendar.get((stay.hotel_id, stay.room_id, stay.rate_id), night)
            if room is None or not room.units or room.closed or (rate and rate.closed):
                return False
        first = self.calendar.get((stay.hotel_id, stay.room_id, stay.rate_id), stay.arrival)
        return not (first and first.closed_to_arrival)

    async def create_booking(self, booking: GuestBooking) -> dict[str, Any]:
        rooms = self._owner(booking.listing_id)
        room_id = booking.room_id or min(rooms)
        rate_id = booking.rate_plan_id or min(rooms.get(room_id, {""}))
        if room_id not in rooms or rate_id not in rooms[room_id]:
            raise ControlError(404, f"no room {room_id} / rate plan {rate_id}")
        loaded = self.calendar.get((booking.listing_id, room_id, rate_id), booking.arrival)
        stay = Stay(
            booking.listing_id,
            room_id,
            rate_id,
            booking.arrival,
            booking.departure,
            booking.adults,
            booking.children,
            booking.first_name,
            booking.last_name,
            booking.phone,
            booking.price_per_night or (loaded.price if loaded and loaded.price else Decimal(100)),
            booking.currency or (loaded.currency if loaded and loaded.currency else "EUR"),
        )
        if not booking.force and not self._sellable(stay):
            raise ControlError(409, "the nights are not bookable on Expedia")
        self._take(stay, -1)
        record = Booking(str(next(self._ids)))
        record.messages.append(Message(record.id, "Book", stay, self.clock.now()))
        self.bookings[record.id] = record
        return self.summary(record)

    async def modify_booking(self, booking_id: str, change: GuestChange) -> dict[str, Any]:
        record = self._live(booking_id)
        old = record.current.stay
        new = replace(
            old,
            arrival=change.arrival or old.arrival,
            departure=change.departure or old.departure,
            adults=change.adults or old.adults,
            children=old.children if change.children is None else change.children,
            nightly=change.price_per_night or old.nightly,
        )
        if new.departure <= new.arrival:
            raise ControlError(422, "departure must be after arrival")
        self._take(old, +1)
        if not self._sellable(new):
            self._take(old, -1)
            raise ControlError(409, "the changed stay is not bookable on Expedia")
        self._take(new, -1)
        record.messages.append(Message(record.id, "Modify", new, self.clock.now()))
        return self.summary(record)

    async def cancel_booking(self, booking_id: str) -> dict[str, Any]:
        record = self._live(booking_id)
        self._take(record.current.stay, +1)
        record.messages.append(Message(record.id, "Cancel", record.current.stay, self.clock.now()))
        return self.summary(record)

    def _live(self, booking_id: str) -> Booking:
        record = self.bookings.get(booking_id)
        if record is None:
            raise ControlError(404, f"no booking {booking_id}")
        if record.current.type == "Cancel":
            raise ControlError(409, f"booking {booking_id} is cancelled")
        return record

    def summary(self, record: Booking) -> dict[str, Any]:
        stay = record.current.stay
        return {
            "id": record.id,
            "hotel_id": stay.hotel_id,
            "arrival": stay.arrival.isoformat(),
            "departure": stay.departure.isoformat(),
            "messages": [
                {
                    "type": m.type,
                    "status": m.status,
                    "confirm_number": m.confirm_number,
                    "confirm_time": m.confirm_time,
                    "confirmations": m.confirmations,
                }
                for m in record.messages
            ],
        }
