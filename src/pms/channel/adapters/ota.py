"""OpenTravel (OTA 2003/05) XML as the OTA platforms take it (Booking.com; Google's ARI uses
the same messages): building ``OTA_HotelAvailNotifRQ`` / ``OTA_HotelRateAmountNotifRQ`` from
runs of nights, reading ``…RS`` answers (``Success`` or ``Errors`` keyed by ``RecordID``), and
the amount quirks. Nothing here knows a platform's paths or auth.

``StatusApplicationControl Start``/``End`` are inclusive night dates; our runs are half-open.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from pms.channel.adapters.base import NightValues, Run
from pms.core.money import minor_unit_exponent

NS = "http://www.opentravel.org/OTA/2003/05"
ONE_DAY = timedelta(days=1)


def q(name: str) -> str:
    return f"{{{NS}}}{name}"


def root(name: str, *, target: str = "Production", version: str = "1.0") -> ET.Element:
    return ET.Element(
        name,
        {
            "xmlns": NS,
            "TimeStamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "Target": target,
            "Version": version,
        },
    )


def to_bytes(element: ET.Element) -> bytes:
    body: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + body


# A platform's answer is untrusted: any DTD is refused (the only way to declare the entities
# that XXE and entity expansion need); none of the OTA platforms sends one.
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class NotOta(ValueError):
    """Not well-formed, DTD-free XML."""


def parse(body: bytes) -> ET.Element:
    if _DTD.search(body):
        raise NotOta("DOCTYPE and ENTITY declarations are not accepted")
    try:
        return ET.fromstring(body)  # noqa: S314 - DTDs refused above
    except ET.ParseError as exc:
        raise NotOta(f"not well-formed XML: {exc}") from exc


def amount(minor: int, currency: str) -> str:
    return f"{Decimal(minor).scaleb(-minor_unit_exponent(currency)):f}"


def minor(value: str, currency: str) -> int:
    return int(Decimal(value).scaleb(minor_unit_exponent(currency)))


def scaled_minor(value: str, decimal_places: str | None, currency: str) -> int:
    """``Rate/Total@AmountAfterTax`` is an integer scaled by ``DecimalPlaces``: exact minor
    units of the currency, never through a float."""
    places = int(decimal_places or 0)
    return int(Decimal(int(value)).scaleb(minor_unit_exponent(currency) - places))


def span(run: Run) -> tuple[str, str]:
    """A half-open run → OTA's inclusive Start/End."""
    return run.start.isoformat(), (run.end - ONE_DAY).isoformat()


def split_by_month(runs: Iterable[Run]) -> dict[tuple[int, int], list[Run]]:
    """Runs cut at month boundaries and grouped by (year, month), in date order."""
    out: dict[tuple[int, int], list[Run]] = {}
    for run in sorted(runs, key=lambda r: r.start):
        start = run.start
        while start < run.end:
            first_next = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
            end = min(run.end, first_next)
            out.setdefault((start.year, start.month), []).append(Run(start, end, run.values))
            start = end
    return out


@dataclass
class Messages:
    """An ARI request being built: each message gets a ``LocatorID`` that errors point back
    at, and remembers the run it came from."""

    request: ET.Element
    container: ET.Element
    by_locator: dict[str, Run] = field(default_factory=dict)

    def add(self, tag: str, run: Run, attrs: dict[str, str] | None = None) -> ET.Element:
        locator = str(len(self.by_locator) + 1)
        self.by_locator[locator] = run
        return ET.SubElement(self.container, tag, {**(attrs or {}), "LocatorID": locator})


def avail_notif(
    hotel: str, room: str, rate: str, runs: Iterable[Run], *, target: str = "Production"
) -> Messages:
    """Rooms to sell per room (``BookingLimit`` 1 or 0: one unit, open or closed), and per room
    rate min/max stay and closed to arrival/departure, for what each run syncs."""
    rq = root("OTA_HotelAvailNotifRQ", target=target, version="1.005")
    out = Messages(rq, ET.SubElement(rq, "AvailStatusMessages", {"HotelCode": hotel}))
    for run in runs:
        start, end = span(run)
        v = run.values
        room_level = {"Start": start, "End": end, "InvTypeCode": room}
        rate_level = {**room_level, "RatePlanCode": rate}
        if v.available is not None:
            msg = out.add("AvailStatusMessage", run, {"BookingLimit": "1" if v.available else "0"})
            ET.SubElement(msg, "StatusApplicationControl", room_level)
        if v.min_stay is not None or v.max_stay is not None or v.closed_to_arrival is not None:
            msg = out.add("AvailStatusMessage", run)
            ET.SubElement(msg, "StatusApplicationControl", rate_level)
            if v.min_stay is not None or v.max_stay is not None:
                stays = ET.SubElement(msg, "LengthsOfStay")
                if v.min_stay is not None:
                    ET.SubElement(
                        stays,
                        "LengthOfStay",
                        {"Time": str(v.min_stay), "MinMaxMessageType": "SetMinLOS"},
                    )
                if v.min_stay is not None or v.max_stay is not None:
                    # Time 0 clears the maximum: Core's "no maximum".
                    ET.SubElement(
                        stays,
                        "LengthOfStay",
                        {"Time": str(v.max_stay or 0), "MinMaxMessageType": "SetMaxLOS"},
                    )
            if v.closed_to_arrival is not None:
                ET.SubElement(
                    msg,
                    "RestrictionStatus",
                    {
                        "Status": "Close" if v.closed_to_arrival else "Open",
                        "Restriction": "Arrival",
                    },
                )
        if v.closed_to_departure is not None:
            msg = out.add("AvailStatusMessage", run)
            ET.SubElement(msg, "StatusApplicationControl", rate_level)
            ET.SubElement(
                msg,
                "RestrictionStatus",
                {
                    "Status": "Close" if v.closed_to_departure else "Open",
                    "Restriction": "Departure",
                },
            )
    return out


def rate_amount_notif(
    hotel: str,
    room: str,
    rate: str,
    runs: Iterable[Run],
    currency: str,
    *,
    target: str = "Production",
) -> Messages:
    """One price per run (the listing's one price for any party)."""
    rq = root("OTA_HotelRateAmountNotifRQ", target=target)
    out = Messages(rq, ET.SubElement(rq, "RateAmountMessages", {"HotelCode": hotel}))
    for run in runs:
        if run.values.price_minor is None:
            continue
        start, end = span(run)
        msg = out.add("RateAmountMessage", run)
        ET.SubElement(
            msg,
            "StatusApplicationControl",
            {"Start": start, "End": end, "InvTypeCode": room, "RatePlanCode": rate},
        )
        amounts = ET.SubElement(
            ET.SubElement(ET.SubElement(msg, "Rates"), "Rate"), "BaseByGuestAmts"
        )
        ET.SubElement(
            amounts,
            "BaseByGuestAmt",
            {"AmountAfterTax": amount(run.values.price_minor, currency), "CurrencyCode": currency},
        )
    return out


@dataclass(frozen=True)
class OtaError:
    type: str
    code: str
    record_id: str | None
    short_text: str
    text: str

    def __str__(self) -> str:
        where = f" (record {self.record_id})" if self.record_id else ""
        return f"{self.code} {self.short_text}{where}: {self.text}".strip()


@dataclass(frozen=True)
class Answer:
    success: bool
    errors: list[OtaError]
    warnings: list[str]


def answer(body: bytes) -> Answer | None:
    """An ``…RS``: ``Success`` (+ ``Warnings``) or ``Errors``; None when it is not OTA XML."""
    try:
        rs = parse(body)
    except NotOta:
        return None
    if not rs.tag.startswith(f"{{{NS}}}"):
        return None
    errors = [
        OtaError(
            e.get("Type", ""),
            e.get("Code", ""),
            e.get("RecordID"),
            e.get("ShortText", ""),
            (e.text or "").strip(),
        )
        for e in rs.iter(q("Error"))
    ]
    warnings = [(w.get("ShortText") or (w.text or "")).strip() for w in rs.iter(q("Warning"))]
    return Answer(rs.find(q("Success")) is not None, errors, warnings)


def nights(run: Run) -> list[date]:
    return [run.start + timedelta(days=i) for i in range((run.end - run.start).days)]


def decimal_or_none(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def unset(values: NightValues) -> bool:
    return all(getattr(values, f) is None for f in values.__dataclass_fields__)
