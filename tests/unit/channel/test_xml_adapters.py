"""The XML platforms' pure parts: Booking.com batches by month, OTA messages naming their
records, exact per-night prices from ``Rate/Total`` scaled by ``DecimalPlaces``, EQC messages
under 100 KB, and restriction fidelity (what a platform shows instead, and the warning)."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest

from pms.channel.adapters import ota
from pms.channel.adapters.base import (
    FULL_FIDELITY,
    Fidelity,
    InvalidWebhook,
    NightValues,
    PlatformError,
    Run,
)
from pms.channel.adapters.booking import BookingAdapter, reservation
from pms.channel.adapters.expedia import MAX_AR_BYTES, MAX_UPDATES, ExpediaAdapter
from pms.channel.engine.values import expressed
from pms.settings import Settings

START = date(2030, 1, 1)


def _runs(n: int) -> list[Run]:
    """``n`` one-night runs, every price different."""
    return [
        Run(
            START + timedelta(days=i),
            START + timedelta(days=i + 1),
            NightValues(True, 10000 + i, 2, None, False, False),
        )
        for i in range(n)
    ]


def test_booking_com_batches_by_month_whatever_the_prices() -> None:
    batches = BookingAdapter(Settings()).batches(_runs(365))
    assert len(batches) == 12  # 2030 from 1 January: twelve months
    for b in batches:
        assert len({(r.start.year, r.start.month) for r in b.runs}) == 1
    assert sum(b.nights for b in batches) == 365


def test_a_run_across_months_is_cut_at_the_boundary() -> None:
    values = NightValues(True, 9900, 2, None, False, False)
    run = Run(date(2030, 1, 30), date(2030, 3, 2), values)
    parts = ota.split_by_month([run])
    assert [(r.start, r.end) for rs in parts.values() for r in rs] == [
        (date(2030, 1, 30), date(2030, 2, 1)),
        (date(2030, 2, 1), date(2030, 3, 1)),
        (date(2030, 3, 1), date(2030, 3, 2)),
    ]


def test_ota_messages_are_inclusive_and_name_their_records() -> None:
    run = Run(date(2030, 6, 1), date(2030, 6, 8), NightValues(False, 12345, 3, 14, True, False))
    msgs = ota.avail_notif("9000001", "101", "555", [run])
    sacs = [m.find("StatusApplicationControl") for m in msgs.container]
    assert {(s.get("Start"), s.get("End")) for s in sacs if s is not None} == {
        ("2030-06-01", "2030-06-07")
    }
    assert msgs.container[0].get("BookingLimit") == "0"
    assert set(msgs.by_locator.values()) == {run}
    assert [m.get("LocatorID") for m in msgs.container] == ["1", "2", "3"]
    rates = ota.rate_amount_notif("9000001", "101", "555", [run], "EUR")
    amount = rates.container.find(".//BaseByGuestAmt")
    assert amount is not None
    assert amount.get("AmountAfterTax") == "123.45"


def test_per_night_prices_are_exact_whatever_the_decimal_places() -> None:
    xml = (
        f'<HotelReservation xmlns="{ota.NS}" ResStatus="Commit"><RoomStays>'
        '<RoomStay IndexNumber="1"><RoomTypes><RoomType RoomTypeCode="101"/></RoomTypes>'
        '<RatePlans><RatePlan RatePlanCode="555"/></RatePlans><RoomRates>'
        '<RoomRate EffectiveDate="2030-06-01"><Rates><Rate><Total AmountAfterTax="123456" '
        'DecimalPlaces="3" CurrencyCode="EUR"/></Rate></Rates></RoomRate>'
        '<RoomRate EffectiveDate="2030-06-02"><Rates><Rate><Total AmountAfterTax="9999" '
        'DecimalPlaces="2" CurrencyCode="EUR"/></Rate></Rates></RoomRate></RoomRates>'
        '<GuestCounts><GuestCount AgeQualifyingCode="10" Count="3"/></GuestCounts>'
        '<BasicPropertyInfo HotelCode="9000001"/></RoomStay></RoomStays>'
        '<ResGlobalInfo><HotelReservationIDs><HotelReservationID ResID_Value="42"/>'
        "</HotelReservationIDs></ResGlobalInfo></HotelReservation>"
    )
    res = reservation(ota.parse(xml.encode()), "9000001")
    assert res.night_prices_minor == {"2030-06-01": 12345, "2030-06-02": 9999}
    assert res.total_minor == 22344
    assert (res.check_in, res.check_out) == (date(2030, 6, 1), date(2030, 6, 3))
    assert res.listing_id == "9000001/101/555"
    assert res.adults == 3


def test_an_eqc_message_of_the_largest_batch_stays_under_100_kb() -> None:
    adapter = ExpediaAdapter(Settings())
    batches = adapter.batches(_runs(365))
    assert len(batches) == math.ceil(365 / MAX_UPDATES)
    credentials = {"username": "u" * 30, "password": "p" * 30, "hotel_id": "1"}
    rq = adapter._rq("AvailRateUpdateRQ", "urn:x", credentials)
    for _ in batches[0].runs:
        update = ET.SubElement(rq, "AvailRateUpdate")
        ET.SubElement(update, "DateRange", {"from": "2030-01-01", "to": "2030-01-01"})
        room = ET.SubElement(update, "RoomType", {"id": "201357986", "closed": "false"})
        ET.SubElement(room, "Inventory", {"totalInventoryAvailable": "1"})
        rate = ET.SubElement(room, "RatePlan", {"id": "206651831A", "closed": "false"})
        amount = ET.SubElement(rate, "Rate", {"currency": "EUR"})
        ET.SubElement(amount, "PerDay", {"rate": "100.00"})
        restrictions = {"closedToArrival": "false", "closedToDeparture": "false"}
        ET.SubElement(rate, "Restrictions", {**restrictions, "minLOS": "2", "maxLOS": "28"})
    assert len(ota.to_bytes(rq)) < MAX_AR_BYTES


def test_restriction_fidelity_shows_what_the_platform_shows_and_says_so() -> None:
    values = NightValues(True, 10000, 30, None, True, True)
    assert expressed(values, FULL_FIDELITY) == (values, [])
    shown, gaps = expressed(values, Fidelity(max_los=28, clears_max_stay=False))
    assert (shown.min_stay, shown.max_stay) == (28, 28)
    assert [(g.rule, g.wanted, g.shown) for g in gaps] == [
        ("min_stay", "30 nights", "28 nights"),
        ("max_stay", "no maximum", "28 nights"),
    ]
    shown, gaps = expressed(values, Fidelity(closed_to_departure=False))
    assert shown.closed_to_departure is None
    assert [(g.rule, g.shown) for g in gaps] == [("closed_to_departure", "open to departure")]
    # What is not synced is not a gap.
    unsynced = NightValues(True, 10000, None, None, None, None)
    assert expressed(unsynced, Fidelity(max_los=28, clears_max_stay=False)) == (unsynced, [])


def test_a_pulled_message_round_trips_through_the_inbox_body() -> None:
    adapter = BookingAdapter(Settings())
    xml = (
        f'<HotelResModify xmlns="{ota.NS}" ResStatus="Cancel"><RoomStays><RoomStay>'
        '<RoomTypes><RoomType RoomTypeCode="101"/></RoomTypes><RoomRates>'
        '<RoomRate EffectiveDate="2030-06-01" RatePlanCode="555"><Rates><Rate>'
        '<Total AmountAfterTax="10000" DecimalPlaces="2" CurrencyCode="EUR"/></Rate></Rates>'
        "</RoomRate></RoomRates></RoomStay></RoomStays><ResGlobalInfo><HotelReservationIDs>"
        '<HotelReservationID ResID_Value="7"/></HotelReservationIDs></ResGlobalInfo>'
        "</HotelResModify>"
    )
    body = json.dumps(
        {"queue": "modify", "pulled_at": "2030-01-01T00:00:00+00:00", "hotel_id": "9", "xml": xml}
    ).encode()
    message = adapter.parse_message(body)
    assert message.reservation is not None
    assert message.reservation.status == "cancelled"
    assert message.reservation.listing_id == "9/101/555"
    assert message.event_type == "reservation.cancel"


@pytest.mark.parametrize(
    ("adapter", "name"), [(BookingAdapter, "Booking.com"), (ExpediaAdapter, "Expedia")]
)
async def test_pulled_instant_bookings_refuse_host_decisions_and_webhooks(
    adapter: type[BookingAdapter] | type[ExpediaAdapter], name: str
) -> None:
    a = adapter(Settings())
    assert await a.ack({}, None) is None  # type: ignore[arg-type]  # the poller acknowledges
    for refused in (a.accept({}, "1"), a.decline({}, "1"), a.decide_alteration({}, "1", True)):
        with pytest.raises(PlatformError, match=name):
            await refused
    with pytest.raises(InvalidWebhook, match=f"{name} reservations are pulled"):
        a.verify_webhook({}, b"", datetime.now(UTC))
