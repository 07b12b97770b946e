"""Booking.com ARI updates: OTA_HotelAvailNotif and OTA_HotelRateAmountNotif, checked then applied.

Structural faults refuse the whole request (HTTP 400); a fault inside one message refuses only that
message, and ``RecordID`` points at it (its ``LocatorID``, else its 1-based position).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from pms.sandbox import xmlsafe
from pms.sandbox.booking.accounts import Account, Hotel
from pms.sandbox.days import Calendar, nights
from pms.sandbox.ota import OtaError, q

MAX_BOOKING_LIMIT = 254
MAX_DAYS_AHEAD = 3 * 366  # [GUESS] how far ahead the simulator accepts updates


class Refused(Exception):
    """The whole request is refused with this HTTP status and these errors."""

    def __init__(self, status: int, errors: list[OtaError]) -> None:
        super().__init__(errors[0].short_text)
        self.status = status
        self.errors = errors


@dataclass
class Outcome:
    applied: int
    errors: list[OtaError]


def _missing(what: str, record: str | None = None) -> OtaError:
    return OtaError(10, 321, what, f"Required element or attribute missing: {what}", record)


def expect_root(root: ET.Element, name: str) -> None:
    if root.tag != q(name):
        raise Refused(
            400,
            [OtaError(7, 450, "WRONG_MESSAGE_TYPE", f"Expected {name} in namespace {q('')[1:-1]}")],
        )


def hotel_of(
    root: ET.Element, container: str, account: Account, hotels: dict[str, Hotel]
) -> tuple[ET.Element, Hotel]:
    found = root.findall(q(container))
    if not found:
        raise Refused(400, [_missing(f"{container.upper()}_ELEMENT_MISSING")])
    codes = {el.get("HotelCode") for el in found}
    if len(found) > 1 or len(codes) > 1:
        raise Refused(
            400,
            [
                OtaError(
                    3, 450, "ONE_HOTEL_PER_REQUEST", "Only one hotel may be updated per request"
                )
            ],
        )
    code = found[0].get("HotelCode")
    if not code:
        raise Refused(400, [_missing("HOTELCODE_ATTRIBUTE_MISSING")])
    if code not in account.hotel_ids or code not in hotels:
        raise Refused(
            403, [OtaError(6, 497, "Access denied for hotel", f"No access to hotel {code}")]
        )
    return found[0], hotels[code]


def _range(sac: ET.Element, record: str, today_cet: date) -> tuple[date, date] | OtaError:
    try:
        start = xmlsafe.parse_date(sac.get("Start"))
        end = xmlsafe.parse_date(sac.get("End"))
    except ValueError as exc:
        return OtaError(3, 15, "NOT_A_VALID_DATE", str(exc), record)
    if end < start:
        return OtaError(3, 404, "INVALID_DATE_RANGE", "End is before Start", record)
    # Documented: dates at most one day in the past (Booking.com reckons in CET).
    if start < today_cet - timedelta(days=1):
        return OtaError(
            3, 15, "NOT_A_VALID_DATE", f"{start} is more than one day in the past", record
        )
    if end > today_cet + timedelta(days=MAX_DAYS_AHEAD):
        return OtaError(3, 15, "NOT_A_VALID_DATE", f"{end} is too far in the future", record)
    return start, end


def _room_rate(sac: ET.Element, hotel: Hotel, record: str) -> tuple[str, str | None] | OtaError:
    room = sac.get("InvTypeCode")
    if not room:
        return _missing("INVTYPECODE_ATTRIBUTE_MISSING", record)
    if room not in hotel.rooms:
        return OtaError(
            3, 402, "INVALID_ROOM_TYPE", f"Room {room} is not in hotel {hotel.id}", record
        )
    rate = sac.get("RatePlanCode")
    if rate is not None and rate not in hotel.rooms[room]:
        return OtaError(3, 249, "INVALID_RATE_CODE", f"Rate {rate} is not on room {room}", record)
    return room, rate


def _int(value: str | None, low: int, high: int) -> int | None:
    if value is None or not value.isdigit():
        return None
    number = int(value)
    return number if low <= number <= high else None


_Apply = Callable[[ET.Element, str, Hotel, Calendar, date], "OtaError | None"]


def _apply_messages(
    root: ET.Element,
    request: str,
    container_name: str,
    message_name: str,
    apply_one: _Apply,
    account: Account,
    hotels: dict[str, Hotel],
    calendar: Calendar,
    today_cet: date,
) -> Outcome:
    """Both ARI requests: every message applied on its own; its error names its record."""
    expect_root(root, request)
    container, hotel = hotel_of(root, container_name, account, hotels)
    messages = container.findall(q(message_name))
    if not messages:
        raise Refused(400, [_missing(f"{message_name.upper()}_ELEMENT_MISSING")])
    outcome = Outcome(0, [])
    for index, msg in enumerate(messages, start=1):
        record = msg.get("LocatorID") or str(index)
        error = apply_one(msg, record, hotel, calendar, today_cet)
        if error is None:
            outcome.applied += 1
        else:
            outcome.errors.append(error)
    return outcome


def _target(
    msg: ET.Element, record: str, hotel: Hotel, today_cet: date
) -> tuple[tuple[date, date], str, str | None] | OtaError:
    """A message's StatusApplicationControl: its nights, room and (optional) rate plan."""
    sac = msg.find(q("StatusApplicationControl"))
    if sac is None:
        return _missing("STATUSAPPLICATIONCONTROL_ELEMENT_MISSING", record)
    span = _range(sac, record, today_cet)
    if isinstance(span, OtaError):
        return span
    room_rate = _room_rate(sac, hotel, record)
    if isinstance(room_rate, OtaError):
        return room_rate
    return (span, *room_rate)


def apply_avail(
    root: ET.Element,
    account: Account,
    hotels: dict[str, Hotel],
    calendar: Calendar,
    today_cet: date,
) -> Outcome:
    return _apply_messages(
        root,
        "OTA_HotelAvailNotifRQ",
        "AvailStatusMessages",
        "AvailStatusMessage",
        _apply_avail_message,
        account,
        hotels,
        calendar,
        today_cet,
    )


def _apply_avail_message(
    msg: ET.Element, record: str, hotel: Hotel, calendar: Calendar, today_cet: date
) -> OtaError | None:
    target = _target(msg, record, hotel, today_cet)
    if isinstance(target, OtaError):
        return target
    span, room, rate = target

    limit: int | None = None
    if (raw_limit := msg.get("BookingLimit")) is not None:
        limit = _int(raw_limit, 0, MAX_BOOKING_LIMIT)
        if limit is None:
            return OtaError(
                3,
                320,
                "INVALID_BOOKING_LIMIT",
                f"BookingLimit must be 0..{MAX_BOOKING_LIMIT}, got {raw_limit!r}",
                record,
            )
    stays: dict[str, int] = {}
    for los in msg.findall(f"{q('LengthsOfStay')}/{q('LengthOfStay')}"):
        kind, time = los.get("MinMaxMessageType"), _int(los.get("Time"), 0, 999)
        if kind not in ("SetMinLOS", "SetMaxLOS") or time is None:
            return OtaError(
                3,
                320,
                "INVALID_LENGTH_OF_STAY",
                "LengthOfStay needs Time 0..999 and MinMaxMessageType SetMinLOS|SetMaxLOS",
                record,
            )
        stays[kind] = time
    status = msg.find(q("RestrictionStatus"))
    if status is not None and (
        status.get("Status") not in ("Open", "Close")
        or status.get("Restriction") not in (None, "Arrival", "Departure")
    ):
        return OtaError(
            3,
            320,
            "INVALID_RESTRICTION_STATUS",
            "RestrictionStatus needs Status Open|Close and optional Restriction Arrival|Departure",
            record,
        )
    if (stays or status is not None) and rate is None:
        return _missing("RATEPLANCODE_ATTRIBUTE_MISSING", record)

    start, end = span
    for night in nights(start, end):
        if limit is not None:
            calendar.day((hotel.id, room, ""), night).units = limit
        if rate is None:
            continue
        day = calendar.day((hotel.id, room, rate), night)
        if "SetMinLOS" in stays:
            day.min_stay = stays["SetMinLOS"] or None
        if "SetMaxLOS" in stays:
            day.max_stay = stays["SetMaxLOS"] or None
        if status is not None:
            closed = status.get("Status") == "Close"
            match status.get("Restriction"):
                case "Arrival":
                    day.closed_to_arrival = closed
                case "Departure":
                    day.closed_to_departure = closed
                case _:
                    day.closed = closed
    return None


def apply_rates(
    root: ET.Element,
    account: Account,
    hotels: dict[str, Hotel],
    calendar: Calendar,
    today_cet: date,
) -> Outcome:
    return _apply_messages(
        root,
        "OTA_HotelRateAmountNotifRQ",
        "RateAmountMessages",
        "RateAmountMessage",
        _apply_rate_message,
        account,
        hotels,
        calendar,
        today_cet,
    )


def _apply_rate_message(
    msg: ET.Element, record: str, hotel: Hotel, calendar: Calendar, today_cet: date
) -> OtaError | None:
    target = _target(msg, record, hotel, today_cet)
    if isinstance(target, OtaError):
        return target
    span, room, rate = target
    if rate is None:
        return _missing("RATEPLANCODE_ATTRIBUTE_MISSING", record)
    amounts = msg.findall(f"{q('Rates')}/{q('Rate')}/{q('BaseByGuestAmts')}/{q('BaseByGuestAmt')}")
    if not amounts:
        return _missing("BASEBYGUESTAMT_ELEMENT_MISSING", record)
    prices: dict[int | None, Decimal] = {}
    for amount in amounts:
        try:
            value = Decimal(amount.get("AmountAfterTax", ""))
        except InvalidOperation:
            value = Decimal(-1)
        if not value.is_finite() or value <= 0:
            return OtaError(
                3, 320, "INVALID_AMOUNT", "AmountAfterTax must be a positive number", record
            )
        currency = amount.get("CurrencyCode")
        if currency != hotel.currency:
            return OtaError(
                3,
                61,
                "INVALID_CURRENCY",
                f"CurrencyCode must be the hotel's currency {hotel.currency}",
                record,
            )
        guests: int | None = None
        if (raw := amount.get("NumberOfGuests")) is not None:
            guests = _int(raw, 1, 99)
            if guests is None:
                return OtaError(
                    3, 320, "INVALID_NUMBER_OF_GUESTS", "NumberOfGuests must be 1..99", record
                )
        prices[guests] = value
    start, end = span
    for night in nights(start, end):
        day = calendar.day((hotel.id, room, rate), night)
        day.currency = hotel.currency
        for guests, value in prices.items():
            if guests is None:
                calendar.set_price((hotel.id, room, rate), night, value)
            else:
                day.prices_by_occupancy[guests] = value
    return None
