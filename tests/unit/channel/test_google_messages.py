"""Google ARI messages: every night gets an explicit Master Open or Close (Google's Master is
closed by default), each restriction type is a delta over the stretches where it is equal, and
both AmountBeforeTax and AmountAfterTax are sent."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

from pms.channel.adapters import google
from pms.channel.adapters.base import NightValues, Run

NS = "{http://www.opentravel.org/OTA/2003/05}"
D0 = date(2031, 3, 1)


def night(i: int, **values: object) -> Run:
    base = {
        "available": True,
        "price_minor": 10000 + i,
        "min_stay": 2,
        "max_stay": None,
        "closed_to_arrival": False,
        "closed_to_departure": False,
    }
    return Run(
        D0 + timedelta(days=i), D0 + timedelta(days=i + 1), NightValues(**{**base, **values})
    )  # type: ignore[arg-type]


def spans(root: ET.Element, restriction: str) -> list[tuple[str, str, str]]:
    out = []
    for msg in root.iter(f"{NS}AvailStatusMessage"):
        status = msg.find(f"{NS}RestrictionStatus")
        if status is not None and status.get("Restriction") == restriction:
            sac = msg.find(f"{NS}StatusApplicationControl")
            assert sac is not None
            out.append((str(sac.get("Start")), str(sac.get("End")), str(status.get("Status"))))
    return out


def test_master_is_explicit_for_every_night_and_merged_per_type() -> None:
    runs = [night(i, available=i not in (3, 4)) for i in range(7)]
    root = ET.fromstring(google.availability("p", "vr-1", runs, "m-1"))
    assert spans(root, "Master") == [
        ("2031-03-01", "2031-03-03", "Open"),
        ("2031-03-04", "2031-03-05", "Close"),
        ("2031-03-06", "2031-03-07", "Open"),
    ]
    # The price changes every night; the arrival restriction is one stretch all the same.
    assert spans(root, "Arrival") == [("2031-03-01", "2031-03-07", "Open")]
    los = [m for m in root.iter(f"{NS}LengthsOfStay")]
    assert len(los) == 1
    assert [x.get("MinMaxMessageType") for x in los[0]] == ["SetMinLOS", "SetMaxLOS"]


def test_not_synced_restrictions_are_not_sent_but_master_still_is() -> None:
    runs = [
        night(i, min_stay=None, closed_to_arrival=None, closed_to_departure=None) for i in range(3)
    ]
    root = ET.fromstring(google.availability("p", "vr-1", runs, "m-1"))
    assert spans(root, "Master") == [("2031-03-01", "2031-03-03", "Open")]
    assert spans(root, "Arrival") == []
    assert spans(root, "Departure") == []
    assert list(root.iter(f"{NS}LengthsOfStay")) == []


def test_rates_carry_both_amounts_and_inventory_is_merged() -> None:
    runs = [night(i) for i in range(3)]
    body = google.rate_amounts("p", "vr-1", "EUR", runs, "r-1")
    assert body is not None
    amounts = list(ET.fromstring(body).iter(f"{NS}BaseByGuestAmt"))
    assert [(a.get("AmountBeforeTax"), a.get("AmountAfterTax")) for a in amounts] == [
        ("100.00", "100.00"),
        ("100.01", "100.01"),
        ("100.02", "100.02"),
    ]
    inv = ET.fromstring(google.inventory("p", "vr-1", runs, "i-1"))
    counts = list(inv.iter(f"{NS}InvCount"))
    assert [c.get("Count") for c in counts] == ["1"]
    assert google.rate_amounts("p", "vr-1", "EUR", [night(0, price_minor=None)], "r") is None


def test_landing_url_and_missing_fields() -> None:
    url = google.landing_url("http://x:3000/", "sylt", "p-1", D0, D0 + timedelta(days=3), 2)
    assert (
        url == "http://x:3000/sylt/properties/p-1?check_in=2031-03-01&check_out=2031-03-04&adults=2"
    )
    info = google.ListingInfo("vr", "p", "Name", None, "City", None, "DE", None, None, 4, None)
    assert google.missing(info) == ["latitude", "longitude", "address", "website"]
