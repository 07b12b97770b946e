"""Google Vacation Rentals simulator: property data and OTA ARI with a partner key."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import httpx

OTA = "{http://www.opentravel.org/OTA/2003/05}"
UPLOADS = "/google/travel/hotels/uploads"
PARTNER, LISTING = "pms_partner_key", "fewo-42"


def soon(days: int) -> date:
    return datetime.now(UTC).date() + timedelta(days=days)


def pos(partner: str) -> str:
    return f'<POS><Source><RequestorID ID="{partner}"/></Source></POS>'


def rate_rq(
    start: date,
    end: date,
    amounts: str,
    notif: str = "Delta",
    partner: str = PARTNER,
    hotel: str = LISTING,
) -> str:
    return (
        '<OTA_HotelRateAmountNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" '
        f'EchoToken="msg-7" TimeStamp="2026-01-01T00:00:00Z" Version="3.0" NotifType="{notif}">'
        f'{pos(partner)}<RateAmountMessages HotelCode="{hotel}"><RateAmountMessage>'
        f'<StatusApplicationControl Start="{start}" End="{end}" InvTypeCode="{LISTING}" '
        f'RatePlanCode="standard"/><Rates><Rate><BaseByGuestAmts>{amounts}</BaseByGuestAmts>'
        "</Rate></Rates></RateAmountMessage></RateAmountMessages></OTA_HotelRateAmountNotifRQ>"
    )


def amount(value: str, guests: int | None = None) -> str:
    occupancy = f' NumberOfGuests="{guests}"' if guests else ""
    return f'<BaseByGuestAmt AmountAfterTax="{value}" CurrencyCode="EUR"{occupancy}/>'


def avail_rq(
    start: date, end: date, inner: str, attrs: str = "", limit: str = "", partner: str = PARTNER
) -> str:
    return (
        '<OTA_HotelAvailNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" EchoToken="a1" '
        f'TimeStamp="2026-01-01T00:00:00Z" Version="3.0">{pos(partner)}'
        f'<AvailStatusMessages HotelCode="{LISTING}"><AvailStatusMessage{limit}>'
        f'<StatusApplicationControl Start="{start}" End="{end}" InvTypeCode="{LISTING}"{attrs}/>'
        f"{inner}</AvailStatusMessage></AvailStatusMessages></OTA_HotelAvailNotifRQ>"
    )


def inv_rq(start: date, end: date, count: int) -> str:
    return (
        '<OTA_HotelInvCountNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" '
        f'EchoToken="i1" TimeStamp="2026-01-01T00:00:00Z" Version="3.0">{pos(PARTNER)}'
        f'<Inventories HotelCode="{LISTING}"><Inventory><StatusApplicationControl '
        f'Start="{start}" End="{end}" InvTypeCode="{LISTING}"/><InvCounts>'
        f'<InvCount Count="{count}" CountType="2"/></InvCounts></Inventory></Inventories>'
        "</OTA_HotelInvCountNotifRQ>"
    )


def post(client: httpx.Client, path: str, body: str) -> httpx.Response:
    return client.post(
        f"{UPLOADS}{path}", content=body.encode(), headers={"Content-Type": "application/xml"}
    )


def ok(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.content)
    assert root.find(f"{OTA}Success") is not None or root.find("Success") is not None, response.text
    return root


def first_error(response: httpx.Response) -> ET.Element:
    error = ET.fromstring(response.content).find(f"{OTA}Errors/{OTA}Error")
    assert error is not None, response.text
    return error


def days(client: httpx.Client, start: date, end: date) -> list[dict[str, object]]:
    r = client.get(
        f"/control/google/listings/{LISTING}/days", params={"start": str(start), "end": str(end)}
    )
    r.raise_for_status()
    return [d for d in r.json() if d["rate_plan_id"] == "standard"]


def test_property_data_overlay_replaces_and_delta_adds(sandbox: httpx.Client) -> None:
    def transaction(action: str, rooms: str) -> str:
        return (
            f'<Transaction timestamp="2026-01-01T00:00:00Z" id="t1" partner="{PARTNER}">'
            f'<PropertyDataSet action="{action}"><Property>{LISTING}</Property>{rooms}'
            "<PackageData><PackageID>standard</PackageID></PackageData>"
            "</PropertyDataSet></Transaction>"
        )

    room = (
        '<RoomData><RoomID>{}</RoomID><Name><Text text="Ferienwohnung" language="de"/>'
        "</Name><Capacity>4</Capacity></RoomData>"
    )
    ok(post(sandbox, "/property_data", transaction("overlay", room.format("r1"))))
    ok(post(sandbox, "/property_data", transaction("delta", room.format("r2"))))
    start = soon(5)
    body = avail_rq(start, start, "", limit=' BookingLimit="1"').replace(
        f'InvTypeCode="{LISTING}"', 'InvTypeCode="r1"'
    )
    ok(post(sandbox, "/ota/hotel_avail_notif", body))
    ok(post(sandbox, "/property_data", transaction("overlay", room.format("r2"))))
    refused = post(sandbox, "/ota/hotel_avail_notif", body)
    assert first_error(refused).get("ShortText") == "Invalid room type code"


def test_rates_overlay_delta_and_remove(sandbox: httpx.Client) -> None:
    start, end = soon(10), soon(11)
    root = ok(
        post(
            sandbox,
            "/ota/hotel_rate_amount_notif",
            rate_rq(start, end, amount("100.00", 2) + amount("120.00", 4), "Overlay"),
        )
    )
    assert root.get("EchoToken") == "msg-7"
    ok(
        post(
            sandbox,
            "/ota/hotel_rate_amount_notif",
            rate_rq(start, start, amount("90.00", 2), "Delta"),
        )
    )
    seen = days(sandbox, start, end)
    assert seen[0]["prices_by_occupancy"] == {"2": "90.00", "4": "120.00"}, "delta keeps 4"
    ok(
        post(
            sandbox,
            "/ota/hotel_rate_amount_notif",
            rate_rq(start, start, amount("95.00", 2), "Overlay"),
        )
    )
    assert days(sandbox, start, start)[0]["prices_by_occupancy"] == {"2": "95.00"}
    ok(post(sandbox, "/ota/hotel_rate_amount_notif", rate_rq(end, end, "", "Remove")))
    assert days(sandbox, end, end)[0]["prices_by_occupancy"] == {}


def test_availability_is_a_delta_per_restriction_with_weekday_flags(sandbox: httpx.Client) -> None:
    start = soon(14)
    end = start + timedelta(days=6)
    los = '<LengthsOfStay><LengthOfStay Time="3" MinMaxMessageType="SetMinLOS"/></LengthsOfStay>'
    ok(
        post(
            sandbox,
            "/ota/hotel_avail_notif",
            avail_rq(start, end, los).replace(
                'InvTypeCode="fewo-42"', 'InvTypeCode="fewo-42" RatePlanCode="standard"'
            ),
        )
    )
    saturday_only = ' RatePlanCode="standard" Sat="true"'
    ok(
        post(
            sandbox,
            "/ota/hotel_avail_notif",
            avail_rq(
                start,
                end,
                '<RestrictionStatus Status="Close" Restriction="Arrival"/>',
                attrs=saturday_only,
            ),
        )
    )
    ok(post(sandbox, "/ota/hotel_inv_count_notif", inv_rq(start, end, 1)))
    week = days(sandbox, start, end)
    assert all(d["min_stay"] == 3 for d in week), "closing arrival keeps the min stay"
    closed = [d["date"] for d in week if d["closed_to_arrival"]]
    assert closed == [d["date"] for d in week if date.fromisoformat(str(d["date"])).weekday() == 5]
    assert all(d["units"] == 1 for d in week)
    # Master is closed by default: nobody opened these nights, so they are not sellable...
    assert not any(d["available"] for d in week)
    # ...unless the account's "default availability" is open...
    sandbox.put("/control/google/config", json={"default_availability": "open"}).raise_for_status()
    assert all(d["available"] for d in days(sandbox, start, end))
    sandbox.put("/control/google/config", json={}).raise_for_status()
    # ...or they are opened explicitly; an explicit close wins over the default.
    ok(
        post(
            sandbox,
            "/ota/hotel_avail_notif",
            avail_rq(
                start,
                end,
                '<RestrictionStatus Status="Open" Restriction="Master"/>',
                attrs=' RatePlanCode="standard"',
            ),
        )
    )
    assert all(d["available"] for d in days(sandbox, start, end))
    sandbox.put("/control/google/config", json={"default_availability": "open"}).raise_for_status()
    ok(
        post(
            sandbox,
            "/ota/hotel_avail_notif",
            avail_rq(
                start,
                start,
                '<RestrictionStatus Status="Close" Restriction="Master"/>',
                attrs=' RatePlanCode="standard"',
            ),
        )
    )
    assert [d["available"] for d in days(sandbox, start, end)] == [False] + [True] * 6


def test_amount_before_tax_is_kept_beside_after_tax(sandbox: httpx.Client) -> None:
    both = '<BaseByGuestAmt AmountBeforeTax="90.00" AmountAfterTax="107.10" CurrencyCode="EUR"/>'
    ok(post(sandbox, "/ota/hotel_rate_amount_notif", rate_rq(soon(4), soon(4), both)))
    ok(post(sandbox, "/ota/hotel_inv_count_notif", inv_rq(soon(4), soon(4), 1)))
    [day] = days(sandbox, soon(4), soon(4))
    assert (day["price"], day["price_before_tax"]) == ("107.10", "90.00")


def test_properties_can_be_added_per_partner(sandbox: httpx.Client) -> None:
    r = sandbox.put("/control/google/properties/vr-9", json={"partner": PARTNER})
    assert r.status_code == 200
    taken = sandbox.put("/control/google/properties/vr-9", json={"partner": "other_partner_key"})
    assert taken.status_code == 409
    body = rate_rq(soon(3), soon(3), amount("80.00"), hotel="vr-9").replace(
        f'InvTypeCode="{LISTING}"', 'InvTypeCode="vr-9"'
    )
    ok(post(sandbox, "/ota/hotel_rate_amount_notif", body))


def test_an_unknown_partner_key_is_refused(sandbox: httpx.Client) -> None:
    r = post(
        sandbox,
        "/ota/hotel_rate_amount_notif",
        rate_rq(soon(3), soon(3), amount("100.00"), partner="intruder"),
    )
    assert r.status_code == 403
    assert first_error(r).get("Code") == "497"


def test_a_listing_of_another_partner_is_refused(sandbox: httpx.Client) -> None:
    r = post(
        sandbox,
        "/ota/hotel_rate_amount_notif",
        rate_rq(soon(3), soon(3), amount("100.00"), hotel="other-1"),
    )
    assert r.status_code == 200  # a content error: Google says do not resend
    assert first_error(r).get("ShortText") == "Invalid hotel code"


def test_malformed_messages_are_refused_in_ota_format(sandbox: httpx.Client) -> None:
    r = post(sandbox, "/ota/hotel_avail_notif", "<OTA_HotelAvailNotifRQ")
    assert r.status_code == 400
    assert first_error(r) is not None
    r = post(
        sandbox,
        "/ota/hotel_rate_amount_notif",
        rate_rq(soon(3), soon(3), amount("100.00"), notif="Replace"),
    )
    assert first_error(r).get("Code") == "320"
    r = post(sandbox, "/ota/hotel_rate_amount_notif", rate_rq(soon(3), soon(3), "", "Delta"))
    assert first_error(r).get("Code") == "321"


def test_past_the_update_cap_is_429_with_retry_after(sandbox: httpx.Client) -> None:
    sandbox.put("/control/google/limits", json={"requests": 2, "window_s": 10}).raise_for_status()
    body = rate_rq(soon(3), soon(3), amount("100.00"))
    codes = [post(sandbox, "/ota/hotel_rate_amount_notif", body) for _ in range(3)]
    assert [r.status_code for r in codes] == [200, 200, 429]
    assert 1 <= int(codes[2].headers["Retry-After"]) <= 10


def test_google_takes_no_bookings(sandbox: httpx.Client) -> None:
    r = sandbox.post(
        "/control/google/bookings",
        json={"listing_id": LISTING, "arrival": str(soon(3)), "departure": str(soon(5))},
    )
    assert r.status_code == 501
