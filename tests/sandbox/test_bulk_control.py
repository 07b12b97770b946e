"""The control routes the Channel Manager bench needs on the Booking.com and Expedia simulators:
many hotels at once (and an EQC account for them), and the price log with wall-clock times."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import httpx

from tests.sandbox.test_booking import AUTH as BOOKING_AUTH
from tests.sandbox.test_expedia import AR_NS, error_code, success

OTA_NS = "http://www.opentravel.org/OTA/2003/05"


def soon(days: int) -> date:
    return datetime.now(UTC).date() + timedelta(days=days)


def ota_rates(hotel: str, room: str, rate: str, start: date, end: date, amount: str) -> str:
    return (
        f'<OTA_HotelRateAmountNotifRQ xmlns="{OTA_NS}" TimeStamp="2026-01-01T00:00:00" '
        f'Target="Test" Version="1.0"><RateAmountMessages HotelCode="{hotel}">'
        f'<RateAmountMessage><StatusApplicationControl Start="{start}" End="{end}" '
        f'InvTypeCode="{room}" RatePlanCode="{rate}"/><Rates><Rate><BaseByGuestAmts>'
        f'<BaseByGuestAmt AmountAfterTax="{amount}" CurrencyCode="EUR"/></BaseByGuestAmts>'
        "</Rate></Rates></RateAmountMessage></RateAmountMessages></OTA_HotelRateAmountNotifRQ>"
    )


def eqc_ar(user: str, password: str, h: dict[str, str], start: date, end: date, price: str) -> str:
    return (
        f'<AvailRateUpdateRQ xmlns="{AR_NS}"><Authentication username="{user}" '
        f'password="{password}"/><Hotel id="{h["hotel_id"]}"/><AvailRateUpdate>'
        f'<DateRange from="{start}" to="{end}"/><RoomType id="{h["room_id"]}">'
        f'<RatePlan id="{h["rate_plan_id"]}"><Rate currency="EUR"><PerDay rate="{price}"/>'
        "</Rate></RatePlan></RoomType></AvailRateUpdate></AvailRateUpdateRQ>"
    )


def ar(client: httpx.Client, body: str) -> ET.Element:
    r = client.post("/expedia/eqc/ar", content=body.encode(), headers={"Content-Type": "text/xml"})
    assert r.status_code == 200, r.text
    return ET.fromstring(r.content)


def booking_rates(client: httpx.Client, body: str) -> httpx.Response:
    return client.post(
        "/booking/hotels/ota/OTA_HotelRateAmountNotif",
        content=body.encode(),
        headers={"Content-Type": "application/xml"},
        auth=BOOKING_AUTH,
    )


# --- Booking.com -----------------------------------------------------------------------------


def test_booking_hotels_created_in_bulk_take_ari_and_log_each_price_change(
    sandbox: httpx.Client,
) -> None:
    r = sandbox.post("/control/booking/hotels", json={"count": 3})
    assert r.status_code == 201, r.text
    hotels = r.json()
    assert len({h["hotel_id"] for h in hotels}) == 3
    h = hotels[1]
    assert h["listing_id"] == f"{h['hotel_id']}/{h['room_id']}/{h['rate_plan_id']}"
    before = time.time()
    start = soon(3)
    body = ota_rates(h["hotel_id"], h["room_id"], h["rate_plan_id"], start, start, "99.50")
    r = booking_rates(sandbox, body)
    assert r.status_code == 200, r.text
    log = sandbox.get("/control/booking/price-log").json()
    assert [(e["listing_id"], e["date"], e["price"]) for e in log] == [
        (h["listing_id"], start.isoformat(), "99.50")
    ]
    assert before <= log[0]["at"] <= time.time()
    # The same price again is no change; a new one is logged after the first.
    assert booking_rates(sandbox, body).status_code == 200
    assert sandbox.get("/control/booking/price-log").json() == log
    body = ota_rates(h["hotel_id"], h["room_id"], h["rate_plan_id"], start, start, "101.00")
    assert booking_rates(sandbox, body).status_code == 200
    newer = sandbox.get("/control/booking/price-log", params={"since": log[0]["seq"]}).json()
    assert [e["price"] for e in newer] == ["101.00"]
    # The hotels are the machine account's: they show in its room rate read-back.
    read = sandbox.post(
        "/booking/hotels/xml/roomrateavailability",
        content=(
            f"<request><hotel_id>{h['hotel_id']}</hotel_id><number_of_days>1</number_of_days>"
            f"<start_date>{start}</start_date></request>"
        ).encode(),
        auth=BOOKING_AUTH,
    )
    assert read.status_code == 200, read.text
    assert ET.fromstring(read.content).find(f"hotel/room[@id='{h['room_id']}']") is not None


def test_booking_hotels_of_another_account_stay_out_of_reach(sandbox: httpx.Client) -> None:
    r = sandbox.post("/control/booking/hotels", json={"count": 1, "account": "other-provider"})
    assert r.status_code == 201, r.text
    h = r.json()[0]
    start = soon(3)
    body = ota_rates(h["hotel_id"], h["room_id"], h["rate_plan_id"], start, start, "99.50")
    assert booking_rates(sandbox, body).status_code == 403
    assert sandbox.get("/control/booking/price-log").json() == []


def test_booking_bulk_create_refuses_bad_input(sandbox: httpx.Client) -> None:
    assert sandbox.post("/control/booking/hotels", json={"count": 0}).status_code == 422
    assert sandbox.post("/control/booking/hotels", json={"count": 5001}).status_code == 422
    r = sandbox.post("/control/booking/hotels", json={"count": 1, "currency": "euro"})
    assert r.status_code == 422
    r = sandbox.post("/control/booking/hotels", json={"count": 1, "account": "nobody"})
    assert r.status_code == 404


def test_booking_reset_forgets_created_hotels_and_the_log(sandbox: httpx.Client) -> None:
    h = sandbox.post("/control/booking/hotels", json={"count": 1}).json()[0]
    start = soon(4)
    body = ota_rates(h["hotel_id"], h["room_id"], h["rate_plan_id"], start, start, "80.00")
    assert booking_rates(sandbox, body).status_code == 200
    sandbox.post("/control/reset").raise_for_status()
    assert sandbox.get("/control/booking/price-log").json() == []
    assert booking_rates(sandbox, body).status_code in (400, 403)


# --- Expedia ---------------------------------------------------------------------------------


def test_expedia_hotels_and_their_account_created_in_bulk(sandbox: httpx.Client) -> None:
    r = sandbox.post(
        "/control/expedia/hotels", json={"count": 2, "username": "bench", "password": "pw-1"}
    )
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["credentials"] == {"username": "bench", "password": "pw-1"}
    assert len({h["hotel_id"] for h in got["hotels"]}) == 2
    h = got["hotels"][0]
    start, end = soon(5), soon(6)
    assert success(ar(sandbox, eqc_ar("bench", "pw-1", h, start, end, "130.00")))
    log = sandbox.get("/control/expedia/price-log").json()
    assert [(e["listing_id"], e["date"], e["price"]) for e in log] == [
        (h["listing_id"], start.isoformat(), "130.00"),
        (h["listing_id"], end.isoformat(), "130.00"),
    ]
    # More hotels in the same account (its password given or not).
    more = sandbox.post("/control/expedia/hotels", json={"count": 1, "username": "bench"}).json()
    assert more["credentials"]["password"] == "pw-1"
    assert success(ar(sandbox, eqc_ar("bench", "pw-1", more["hotels"][0], start, end, "1.00")))
    # Another account's hotel is refused, and the wrong password is refused.
    assert error_code(ar(sandbox, eqc_ar("EQCsandbox", "eqc-pass", h, start, end, "2"))) == "1002"
    assert error_code(ar(sandbox, eqc_ar("bench", "wrong", h, start, end, "2"))) == "1001"


def test_expedia_bulk_create_makes_a_password_and_refuses_bad_input(
    sandbox: httpx.Client,
) -> None:
    r = sandbox.post("/control/expedia/hotels", json={"count": 1, "username": "gen"})
    assert r.status_code == 201, r.text
    password = r.json()["credentials"]["password"]
    assert len(password) >= 12
    r = sandbox.post(
        "/control/expedia/hotels", json={"count": 1, "username": "gen", "password": "not-it"}
    )
    assert r.status_code == 409
    assert "not-it" not in r.text
    assert password not in r.text
    assert sandbox.post("/control/expedia/hotels", json={"count": 0}).status_code == 422
    assert (
        sandbox.post("/control/expedia/hotels", json={"count": 1, "username": ""}).status_code
        == 422
    )
