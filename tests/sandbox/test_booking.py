"""Booking.com simulator, spoken to over HTTP exactly as the channel adapter will."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Generator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

OTA = "{http://www.opentravel.org/OTA/2003/05}"
BASIC = ("sandbox-pms", "sandbox-pass")  # the machine account's legacy Basic credentials


class Token(httpx.Auth):
    """Bearer auth with a JWT from the token exchange, kept while it works and exchanged again
    after a 401 (the way the adapter does it)."""

    requires_response_body = True

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.credentials = {"client_id": client_id, "client_secret": client_secret}
        self.jwt: str | None = None

    def _exchange(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        url = request.url.copy_with(path="/booking/token-based-authentication/exchange", query=None)
        r = yield httpx.Request("POST", url, json=self.credentials)
        self.jwt = r.json()["jwt"] if r.status_code == 200 else None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.jwt is None:
            yield from self._exchange(request)
        if self.jwt is not None:
            request.headers["Authorization"] = f"Bearer {self.jwt}"
        response = yield request
        if response.status_code == 401 and "Authorization" in request.headers:
            yield from self._exchange(request)
            if self.jwt is not None:
                request.headers["Authorization"] = f"Bearer {self.jwt}"
                yield request

    def warm(self, client: httpx.Client) -> None:
        if self.jwt is None:
            r = client.post("/booking/token-based-authentication/exchange", json=self.credentials)
            r.raise_for_status()
            self.jwt = r.json()["jwt"]


AUTH = Token("sandbox-client", "sandbox-client-secret")
HOTEL, ROOM, RATE = "9000001", "900000101", "55500001"


def soon(days: int) -> date:
    # Booking.com reckons dates in CET, as the simulator does: from 23:00 UTC its today is
    # UTC's tomorrow.
    return datetime.now(ZoneInfo("Europe/Berlin")).date() + timedelta(days=days)


def avail_rq(*messages: str, hotel: str = HOTEL) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OTA_HotelAvailNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" '
        'TimeStamp="2026-01-01T00:00:00" Target="Test" Version="1.005">'
        f'<AvailStatusMessages HotelCode="{hotel}">{"".join(messages)}</AvailStatusMessages>'
        "</OTA_HotelAvailNotifRQ>"
    )


def rooms_to_sell(start: date, end: date, limit: int | str, locator: str = "1") -> str:
    return (
        f'<AvailStatusMessage BookingLimit="{limit}" LocatorID="{locator}">'
        f'<StatusApplicationControl Start="{start}" End="{end}" InvTypeCode="{ROOM}"/>'
        "</AvailStatusMessage>"
    )


def restrictions(
    start: date,
    end: date,
    locator: str = "2",
    *,
    min_los: int = 2,
    status: str = "Open",
    restriction: str | None = None,
) -> str:
    restr = f' Restriction="{restriction}"' if restriction else ""
    return (
        f'<AvailStatusMessage LocatorID="{locator}">'
        f'<StatusApplicationControl Start="{start}" End="{end}" InvTypeCode="{ROOM}" '
        f'RatePlanCode="{RATE}"/>'
        f'<LengthsOfStay><LengthOfStay Time="{min_los}" MinMaxMessageType="SetMinLOS"/>'
        "</LengthsOfStay>"
        f'<RestrictionStatus Status="{status}"{restr}/></AvailStatusMessage>'
    )


def rate_rq(start: date, end: date, amount: str, currency: str = "EUR") -> str:
    return (
        '<OTA_HotelRateAmountNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" '
        'TimeStamp="2026-01-01T00:00:00" Target="Test" Version="1.0">'
        f'<RateAmountMessages HotelCode="{HOTEL}"><RateAmountMessage>'
        f'<StatusApplicationControl Start="{start}" End="{end}" InvTypeCode="{ROOM}" '
        f'RatePlanCode="{RATE}"/><Rates><Rate><BaseByGuestAmts>'
        f'<BaseByGuestAmt AmountAfterTax="{amount}" CurrencyCode="{currency}"/>'
        "</BaseByGuestAmts></Rate></Rates></RateAmountMessage></RateAmountMessages>"
        "</OTA_HotelRateAmountNotifRQ>"
    )


def ack_rq(*res_ids: str, root: str = "OTA_HotelResNotifRS") -> str:
    """An acknowledgement; a modification's ack lists HotelResModifies, as OTA 2003B has it."""
    holder, item = (
        ("HotelResModifies", "HotelResModify")
        if root == "OTA_HotelResModifyNotifRS"
        else ("HotelReservations", "HotelReservation")
    )
    ids = "".join(
        f"<{item}><ResGlobalInfo><HotelReservationIDs>"
        f'<HotelReservationID ResID_Value="{i}"/></HotelReservationIDs></ResGlobalInfo>'
        f"</{item}>"
        for i in res_ids
    )
    return (
        f'<{root} xmlns="http://www.opentravel.org/OTA/2003/05" TimeStamp="2026-01-01T00:00:00" '
        f'Target="Test" Version="2.001"><Success/><{holder}>{ids}</{holder}></{root}>'
    )


def post(
    client: httpx.Client,
    path: str,
    body: str,
    auth: httpx.Auth | tuple[str, str] | None = AUTH,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return client.post(
        f"/booking{path}",
        content=body.encode(),
        auth=auth,
        headers={"Content-Type": "application/xml", **(headers or {})},
    )


def errors(response: httpx.Response) -> list[ET.Element]:
    root = ET.fromstring(response.content)
    assert root.find(f"{OTA}Success") is None, "never both Success and Errors"
    return root.findall(f"{OTA}Errors/{OTA}Error")


def assert_ruid(response: httpx.Response) -> None:
    assert response.text.rstrip().endswith("] -->")
    assert "<!-- RUID: [" in response.text


def days(client: httpx.Client, start: date, end: date) -> list[dict[str, object]]:
    r = client.get(
        f"/control/booking/listings/{HOTEL}/days",
        params={"start": start.isoformat(), "end": end.isoformat()},
    )
    r.raise_for_status()
    return [d for d in r.json() if d["room_id"] == ROOM and d["rate_plan_id"] == RATE]


def open_nights(client: httpx.Client, start: date, end: date, price: str = "120.00") -> None:
    r = post(
        client,
        "/hotels/ota/OTA_HotelAvailNotif",
        avail_rq(rooms_to_sell(start, end, 1), restrictions(start, end, min_los=1)),
    )
    assert r.status_code == 200, r.text
    r = post(client, "/hotels/ota/OTA_HotelRateAmountNotif", rate_rq(start, end, price))
    assert r.status_code == 200, r.text


@pytest.fixture(autouse=True)
def _token(sandbox: httpx.Client) -> None:
    """The token is had before a test injects faults (the exchange is behind them too)."""
    AUTH.warm(sandbox)


# --- ARI -------------------------------------------------------------------------------------


def test_availability_is_accepted_and_inclusive_of_the_end_night(sandbox: httpx.Client) -> None:
    start, end = soon(10), soon(12)
    r = post(
        sandbox,
        "/hotels/ota/OTA_HotelAvailNotif",
        avail_rq(rooms_to_sell(start, end, 1), restrictions(start, end, min_los=3)),
    )
    assert r.status_code == 200, r.text
    assert ET.fromstring(r.content).find(f"{OTA}Success") is not None
    assert_ruid(r)
    seen = {d["date"]: d for d in days(sandbox, start - timedelta(days=1), end + timedelta(1))}
    assert [seen[n.isoformat()]["units"] for n in (start, end)] == [1, 1]
    assert seen[(start - timedelta(days=1)).isoformat()]["units"] is None
    assert seen[(end + timedelta(days=1)).isoformat()]["units"] is None
    assert seen[end.isoformat()]["min_stay"] == 3
    assert seen[end.isoformat()]["available"] is True


def test_rates_show_in_the_room_rate_availability_read_back(sandbox: httpx.Client) -> None:
    start = soon(5)
    open_nights(sandbox, start, start + timedelta(days=1), price="135.50")
    body = (
        f"<request><hotel_id>{HOTEL}</hotel_id><number_of_days>2</number_of_days>"
        f"<start_date>{start}</start_date></request>"
    )
    r = post(sandbox, "/hotels/xml/roomrateavailability", body)
    assert r.status_code == 200, r.text
    room = ET.fromstring(r.content).find(f"hotel/room[@id='{ROOM}']")
    assert room is not None
    dates = room.findall("date")
    assert [d.get("value") for d in dates] == [
        start.isoformat(),
        (start + timedelta(days=1)).isoformat(),
    ]
    assert dates[0].findtext("roomstosell") == "1"
    assert dates[0].findtext(f"rate[@id='{RATE}']/price") == "135.50"


def test_closing_to_arrival_is_a_rate_level_restriction(sandbox: httpx.Client) -> None:
    start = soon(3)
    r = post(
        sandbox,
        "/hotels/ota/OTA_HotelAvailNotif",
        avail_rq(restrictions(start, start, status="Close", restriction="Arrival")),
    )
    assert r.status_code == 200, r.text
    (day,) = days(sandbox, start, start)
    assert day["closed_to_arrival"] is True
    assert day["closed_to_departure"] is False


def test_booking_limit_above_254_refuses_only_that_message(sandbox: httpx.Client) -> None:
    start = soon(10)
    r = post(
        sandbox,
        "/hotels/ota/OTA_HotelAvailNotif",
        avail_rq(
            rooms_to_sell(start, start, 255, locator="7"),
            rooms_to_sell(start + timedelta(1), start + timedelta(1), 254, "8"),
        ),
    )
    assert r.status_code == 200  # at least one update succeeded
    (error,) = errors(r)
    assert error.get("RecordID") == "7"
    assert error.get("Status") == "NotProcessed"
    assert {"Type", "Code", "ShortText"} <= set(error.attrib)
    assert [d["units"] for d in days(sandbox, start, start + timedelta(1))] == [None, 254]


def test_all_messages_failing_is_a_400(sandbox: httpx.Client) -> None:
    start = soon(10)
    r = post(
        sandbox, "/hotels/ota/OTA_HotelAvailNotif", avail_rq(rooms_to_sell(start, start, "-1"))
    )
    assert r.status_code == 400
    assert errors(r)[0].get("Code") == "320"
    assert_ruid(r)


def test_dates_more_than_a_day_in_the_past_are_not_valid(sandbox: httpx.Client) -> None:
    yesterday, long_ago = soon(-1), soon(-3)
    r = post(
        sandbox,
        "/hotels/ota/OTA_HotelAvailNotif",
        avail_rq(
            rooms_to_sell(long_ago, long_ago, 1, "1"), rooms_to_sell(yesterday, yesterday, 1, "2")
        ),
    )
    assert r.status_code == 200
    (error,) = errors(r)
    assert (error.get("ShortText"), error.get("RecordID")) == ("NOT_A_VALID_DATE", "1")


def test_malformed_xml_is_refused_in_ota_format(sandbox: httpx.Client) -> None:
    r = post(sandbox, "/hotels/ota/OTA_HotelAvailNotif", "<OTA_HotelAvailNotifRQ><oops>")
    assert r.status_code == 400
    assert errors(r)
    assert_ruid(r)


def test_entity_declarations_are_refused(sandbox: httpx.Client) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;">]>' + avail_rq().split("?>", 1)[1]
    )
    r = post(sandbox, "/hotels/ota/OTA_HotelAvailNotif", bomb)
    assert r.status_code == 400
    assert "DOCTYPE" in r.text


def test_missing_avail_status_messages_is_named(sandbox: httpx.Client) -> None:
    body = (
        '<OTA_HotelAvailNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" '
        'TimeStamp="2026-01-01T00:00:00" Target="Test" Version="1.0"/>'
    )
    r = post(sandbox, "/hotels/ota/OTA_HotelAvailNotif", body)
    assert r.status_code == 400
    assert errors(r)[0].get("ShortText") == "AVAILSTATUSMESSAGES_ELEMENT_MISSING"


def test_two_hotels_in_one_request_are_refused(sandbox: httpx.Client) -> None:
    start = soon(4)
    two = avail_rq(rooms_to_sell(start, start, 1)).replace(
        "</AvailStatusMessages>",
        '</AvailStatusMessages><AvailStatusMessages HotelCode="9000002"/>',
    )
    r = post(sandbox, "/hotels/ota/OTA_HotelAvailNotif", two)
    assert r.status_code == 400
    assert errors(r)[0].get("ShortText") == "ONE_HOTEL_PER_REQUEST"


def test_basic_auth_is_refused_since_its_sunset_even_with_the_right_password(
    sandbox: httpx.Client,
) -> None:
    start = soon(4)
    body = avail_rq(rooms_to_sell(start, start, 1))
    for auth in (BASIC, ("sandbox-pms", "wrong")):
        r = post(sandbox, "/hotels/ota/OTA_HotelAvailNotif", body, auth=auth)
        assert r.status_code == 401, r.text
        assert errors(r)[0].get("Code") == "497"
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert days(sandbox, start, start)[0]["units"] is None, "nothing was applied"
    r = sandbox.get("/booking/hotels/ota/OTA_HotelResNotif", auth=BASIC)
    assert r.status_code == 401
    assert ET.fromstring(r.content).tag == f"{OTA}OTA_HotelResNotifRS"
    assert post(sandbox, "/hotels/ota/OTA_HotelAvailNotif", body, auth=None).status_code == 401
    forged = {"Authorization": "Bearer not-a-jwt"}
    r = post(sandbox, "/hotels/ota/OTA_HotelAvailNotif", body, auth=None, headers=forged)
    assert r.status_code == 401
    assert post(sandbox, "/hotels/ota/OTA_HotelAvailNotif", body).status_code == 200


def test_a_hotel_of_another_account_is_403(sandbox: httpx.Client) -> None:
    start = soon(4)
    r = post(
        sandbox,
        "/hotels/ota/OTA_HotelAvailNotif",
        avail_rq(rooms_to_sell(start, start, 1), hotel="9000099"),
    )
    assert r.status_code == 403
    assert errors(r)[0].get("ShortText") == "Access denied for hotel"
    assert_ruid(r)


def test_past_the_rate_limit_is_429_with_retry_after(sandbox: httpx.Client) -> None:
    sandbox.put("/control/booking/limits", json={"requests": 2, "window_s": 60}).raise_for_status()
    start = soon(4)
    codes = [
        post(sandbox, "/hotels/ota/OTA_HotelAvailNotif", avail_rq(rooms_to_sell(start, start, 1)))
        for _ in range(3)
    ]
    assert [r.status_code for r in codes] == [200, 200, 429]
    assert 1 <= int(codes[2].headers["Retry-After"]) <= 60
    assert errors(codes[2])


# --- token exchange --------------------------------------------------------------------------


def test_token_exchange_gives_a_bearer_jwt_of_one_hour(sandbox: httpx.Client) -> None:
    import jwt

    r = sandbox.post(
        "/booking/token-based-authentication/exchange",
        json={"client_id": "sandbox-client", "client_secret": "sandbox-client-secret"},
    )
    assert r.status_code == 200, r.text
    token = r.json()["jwt"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "urn://connectivity-modern-auth/v1"
    assert claims["exp"] - claims["iat"] == 3600
    start = soon(4)
    ok = post(
        sandbox,
        "/hotels/ota/OTA_HotelAvailNotif",
        avail_rq(rooms_to_sell(start, start, 1)),
        auth=None,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert ok.status_code == 200, ok.text
    forged = post(
        sandbox,
        "/hotels/ota/OTA_HotelAvailNotif",
        avail_rq(rooms_to_sell(start, start, 1)),
        auth=None,
        headers={"Authorization": f"Bearer {token[:-4]}AAAA"},
    )
    assert forged.status_code == 401


def test_a_token_expires_after_an_hour(sandbox: httpx.Client) -> None:
    r = sandbox.post(
        "/booking/token-based-authentication/exchange",
        json={"client_id": "sandbox-client", "client_secret": "sandbox-client-secret"},
    )
    token = r.json()["jwt"]
    sandbox.post("/control/clock/advance", json={"seconds": 3601}).raise_for_status()
    start = soon(4)
    late = post(
        sandbox,
        "/hotels/ota/OTA_HotelAvailNotif",
        avail_rq(rooms_to_sell(start, start, 1)),
        auth=None,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert late.status_code == 401
    # A token issued on the moved clock works.
    AUTH.jwt = None
    r = post(sandbox, "/hotels/ota/OTA_HotelAvailNotif", avail_rq(rooms_to_sell(start, start, 1)))
    assert r.status_code == 200, r.text


def test_at_most_30_tokens_per_hour(sandbox: httpx.Client) -> None:
    sandbox.post("/control/reset").raise_for_status()  # the exchanges of the fixtures too
    creds = {"client_id": "sandbox-client", "client_secret": "sandbox-client-secret"}
    codes = [
        sandbox.post("/booking/token-based-authentication/exchange", json=creds) for _ in range(31)
    ]
    assert {r.status_code for r in codes[:30]} == {200}
    assert codes[30].status_code == 429
    assert int(codes[30].headers["Retry-After"]) > 0
    sandbox.post("/control/clock/advance", json={"seconds": 3600}).raise_for_status()
    again = sandbox.post("/booking/token-based-authentication/exchange", json=creds)
    assert again.status_code == 200, "an hour later tokens can be had again"


# --- reservations: pull and acknowledge ------------------------------------------------------


def book(client: httpx.Client, arrival: date, nights: int = 2) -> str:
    r = client.post(
        "/control/booking/bookings",
        json={
            "listing_id": HOTEL,
            "room_id": ROOM,
            "rate_plan_id": RATE,
            "arrival": arrival.isoformat(),
            "departure": (arrival + timedelta(nights)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    res_id: str = r.json()["id"]
    return res_id


def pulled_ids(client: httpx.Client, endpoint: str = "OTA_HotelResNotif") -> list[str]:
    r = client.get(f"/booking/hotels/ota/{endpoint}", auth=AUTH)
    assert r.status_code == 200, r.text
    assert_ruid(r)
    root = ET.fromstring(r.content)
    return [el.get("ResID_Value", "") for el in root.iter(f"{OTA}HotelReservationID")]


def test_a_guest_booking_is_queued_until_acknowledged(sandbox: httpx.Client) -> None:
    arrival = soon(20)
    open_nights(sandbox, arrival, arrival + timedelta(days=3))
    res_id = book(sandbox, arrival)
    assert pulled_ids(sandbox) == [res_id]
    assert pulled_ids(sandbox) == [res_id], "an unacknowledged reservation comes back"
    r = post(sandbox, "/hotels/ota/OTA_HotelResNotif", ack_rq(res_id))
    assert r.status_code == 200, r.text
    assert ET.fromstring(r.content).find(f"{OTA}Success") is not None
    assert pulled_ids(sandbox) == [], "an acknowledged reservation never comes back"
    # the booked nights are gone from the platform's availability
    assert [d["units"] for d in days(sandbox, arrival, arrival + timedelta(days=2))] == [0, 0, 1]


def test_the_reservation_message_carries_one_room_rate_per_night(sandbox: httpx.Client) -> None:
    arrival = soon(20)
    open_nights(sandbox, arrival, arrival + timedelta(days=3), price="99.90")
    book(sandbox, arrival, nights=3)
    r = sandbox.get("/booking/hotels/ota/OTA_HotelResNotif", auth=AUTH)
    res = ET.fromstring(r.content).find(f"{OTA}HotelReservations/{OTA}HotelReservation")
    assert res is not None
    rates = res.findall(f".//{OTA}RoomRate")
    assert [r.get("EffectiveDate") for r in rates] == [
        (arrival + timedelta(i)).isoformat() for i in range(3)
    ]
    total = rates[0].find(f"{OTA}Rates/{OTA}Rate/{OTA}Total")
    assert total is not None
    assert (total.get("AmountAfterTax"), total.get("DecimalPlaces")) == ("9990", "2")
    prop = res.find(f".//{OTA}BasicPropertyInfo")
    assert prop is not None
    assert prop.get("HotelCode") == HOTEL


def test_a_negative_ack_keeps_the_reservation_queued(sandbox: httpx.Client) -> None:
    arrival = soon(20)
    open_nights(sandbox, arrival, arrival + timedelta(days=3))
    res_id = book(sandbox, arrival)
    pulled_ids(sandbox)
    negative = ack_rq(res_id).replace("<Success/>", '<Errors><Error Type="3" Code="450"/></Errors>')
    assert post(sandbox, "/hotels/ota/OTA_HotelResNotif", negative).status_code == 200
    assert pulled_ids(sandbox) == [res_id]


def test_acking_an_unknown_reservation_is_404(sandbox: httpx.Client) -> None:
    r = post(sandbox, "/hotels/ota/OTA_HotelResNotif", ack_rq("123"))
    assert r.status_code == 404
    assert errors(r)


def test_acking_another_accounts_reservation_is_403(sandbox: httpx.Client) -> None:
    arrival = soon(20)
    r = sandbox.post(
        "/control/booking/bookings",
        json={
            "listing_id": "9000099",
            "arrival": arrival.isoformat(),
            "departure": (arrival + timedelta(2)).isoformat(),
            "force": True,
        },
    )
    assert r.status_code == 201
    assert pulled_ids(sandbox) == []
    assert post(sandbox, "/hotels/ota/OTA_HotelResNotif", ack_rq(r.json()["id"])).status_code == 403
    g = sandbox.get(
        "/booking/hotels/ota/OTA_HotelResNotif", params={"hotel_ids": "9000099"}, auth=AUTH
    )
    assert g.status_code == 403


def test_a_change_before_the_ack_arrives_as_the_new_reservation(sandbox: httpx.Client) -> None:
    arrival = soon(20)
    open_nights(sandbox, arrival, arrival + timedelta(days=5))
    res_id = book(sandbox, arrival)
    assert pulled_ids(sandbox) == [res_id]
    sandbox.patch(
        f"/control/booking/bookings/{res_id}",
        json={"departure": (arrival + timedelta(4)).isoformat()},
    ).raise_for_status()
    # the message pulled before the change is no longer the latest: acking it is refused
    stale = post(sandbox, "/hotels/ota/OTA_HotelResNotif", ack_rq(res_id))
    assert stale.status_code == 400
    assert "wrong type" in errors(stale)[0].get("ShortText", "")
    assert pulled_ids(sandbox) == [res_id]
    assert post(sandbox, "/hotels/ota/OTA_HotelResNotif", ack_rq(res_id)).status_code == 200
    assert pulled_ids(sandbox, "OTA_HotelResModifyNotif") == []


def test_acknowledgements_are_counted_per_revision_repeats_included(
    sandbox: httpx.Client,
) -> None:
    arrival = soon(20)
    open_nights(sandbox, arrival, arrival + timedelta(days=5))
    res_id = book(sandbox, arrival)

    def acks() -> dict[str, int]:
        found = sandbox.get("/control/booking/reservations").json()
        counts: dict[str, int] = next(x["acks"] for x in found if x["id"] == res_id)
        return counts

    assert acks() == {}, "nothing acknowledged before the first ack"
    pulled_ids(sandbox)
    assert post(sandbox, "/hotels/ota/OTA_HotelResNotif", ack_rq(res_id)).status_code == 200
    assert acks() == {"1": 1}
    # a repeat (as after a lost response) is accepted and changes nothing, but is counted
    assert post(sandbox, "/hotels/ota/OTA_HotelResNotif", ack_rq(res_id)).status_code == 200
    assert acks() == {"1": 2}
    sandbox.patch(f"/control/booking/bookings/{res_id}", json={"adults": 3}).raise_for_status()
    pulled_ids(sandbox, "OTA_HotelResModifyNotif")
    # a refused (stale-type) ack counts nothing
    assert post(sandbox, "/hotels/ota/OTA_HotelResNotif", ack_rq(res_id)).status_code == 400
    ack = ack_rq(res_id, root="OTA_HotelResModifyNotifRS")
    assert post(sandbox, "/hotels/ota/OTA_HotelResModifyNotif", ack).status_code == 200
    assert acks() == {"1": 2, "2": 1}


def test_modify_and_cancel_after_the_ack_use_the_modify_queue(sandbox: httpx.Client) -> None:
    arrival = soon(20)
    open_nights(sandbox, arrival, arrival + timedelta(days=5))
    res_id = book(sandbox, arrival)
    pulled_ids(sandbox)
    post(sandbox, "/hotels/ota/OTA_HotelResNotif", ack_rq(res_id)).raise_for_status()

    r = sandbox.patch(f"/control/booking/bookings/{res_id}", json={"adults": 3})
    assert r.json()["queued_in"] == ["modify"]
    assert pulled_ids(sandbox) == []
    # acknowledging a modification on the new-reservations endpoint is the wrong type
    assert post(sandbox, "/hotels/ota/OTA_HotelResNotif", ack_rq(res_id)).status_code == 400
    r = sandbox.get("/booking/hotels/ota/OTA_HotelResModifyNotif", auth=AUTH)
    modify = ET.fromstring(r.content).find(f"{OTA}HotelResModifies/{OTA}HotelResModify")
    assert modify is not None
    assert modify.get("ResStatus") == "Modify"
    sandbox.post(f"/control/booking/bookings/{res_id}/cancel").raise_for_status()
    r = sandbox.get("/booking/hotels/ota/OTA_HotelResModifyNotif", auth=AUTH)
    modify = ET.fromstring(r.content).find(f"{OTA}HotelResModifies/{OTA}HotelResModify")
    assert modify is not None
    assert modify.get("ResStatus") == "Cancel"
    ack = ack_rq(res_id, root="OTA_HotelResModifyNotifRS")
    assert post(sandbox, "/hotels/ota/OTA_HotelResModifyNotif", ack).status_code == 200
    assert pulled_ids(sandbox, "OTA_HotelResModifyNotif") == []
    # the cancelled nights are for sale again
    assert [d["units"] for d in days(sandbox, arrival, arrival + timedelta(1))] == [1, 1]


def test_a_guest_cannot_book_closed_nights(sandbox: httpx.Client) -> None:
    arrival = soon(20)
    r = sandbox.post(
        "/control/booking/bookings",
        json={
            "listing_id": HOTEL,
            "arrival": arrival.isoformat(),
            "departure": (arrival + timedelta(2)).isoformat(),
        },
    )
    assert r.status_code == 409


# --- faults ----------------------------------------------------------------------------------


def statuses_under(client: httpx.Client, seed: int, n: int = 30) -> list[int]:
    plan = {"seed": seed, "error_rate": 0.2, "rate_limit_rate": 0.2, "retry_after_s": 7}
    client.put("/control/booking/faults", json=plan).raise_for_status()
    start = soon(4)
    out = []
    for _ in range(n):
        r = post(
            client, "/hotels/ota/OTA_HotelAvailNotif", avail_rq(rooms_to_sell(start, start, 1))
        )
        if r.status_code == 429:
            assert r.headers["Retry-After"] == "7"
        out.append(r.status_code)
    return out


def test_faults_replay_identically_from_the_same_seed(sandbox: httpx.Client) -> None:
    first = statuses_under(sandbox, seed=42)
    second = statuses_under(sandbox, seed=42)
    assert first == second
    assert {200, 429, 500} <= set(first)
    assert statuses_under(sandbox, seed=7) != first
    log = sandbox.get("/control/booking/faults/log").json()
    assert len(log) == 30


def test_expired_credentials_are_refused_like_bad_ones(sandbox: httpx.Client) -> None:
    sandbox.put(
        "/control/booking/faults", json={"seed": 1, "expired_credentials": True}
    ).raise_for_status()
    start = soon(4)
    r = post(sandbox, "/hotels/ota/OTA_HotelAvailNotif", avail_rq(rooms_to_sell(start, start, 1)))
    assert r.status_code == 401
    sandbox.delete("/control/booking/faults").raise_for_status()
    r = post(sandbox, "/hotels/ota/OTA_HotelAvailNotif", avail_rq(rooms_to_sell(start, start, 1)))
    assert r.status_code == 200


def test_injected_latency_and_timeouts_hold_the_request(sandbox: httpx.Client) -> None:
    start = soon(4)
    body = avail_rq(rooms_to_sell(start, start, 1))
    sandbox.put(
        "/control/booking/faults",
        json={"seed": 3, "latency_rate": 1.0, "latency_ms": 300},
    ).raise_for_status()
    began = time.monotonic()
    assert post(sandbox, "/hotels/ota/OTA_HotelAvailNotif", body).status_code == 200
    assert time.monotonic() - began >= 0.3
    sandbox.put(
        "/control/booking/faults", json={"seed": 3, "timeout_rate": 1.0, "timeout_s": 1.5}
    ).raise_for_status()
    with pytest.raises(httpx.ReadTimeout):
        sandbox.post(
            "/booking/hotels/ota/OTA_HotelAvailNotif",
            content=body.encode(),
            auth=AUTH,
            timeout=0.5,
        )
    assert sandbox.get("/control/booking/faults/log").json()[0]["fault"] == "timeout"


def test_a_single_reservation_is_pulled_by_id_with_its_hotel(sandbox: httpx.Client) -> None:
    arrival = soon(20)
    open_nights(sandbox, arrival, arrival + timedelta(days=5))
    first, second = book(sandbox, arrival), book(sandbox, arrival + timedelta(days=2))
    r = sandbox.get(
        "/booking/hotels/ota/OTA_HotelResNotif",
        params={"id": second, "hotel_ids": HOTEL},
        auth=AUTH,
    )
    ids = [
        el.get("ResID_Value") for el in ET.fromstring(r.content).iter(f"{OTA}HotelReservationID")
    ]
    assert ids == [second]
    alone = sandbox.get("/booking/hotels/ota/OTA_HotelResNotif", params={"id": first}, auth=AUTH)
    assert alone.status_code == 400


# --- fixes from acceptance testing ------------------------------------------------------------


def test_a_reservation_carries_its_room_description(sandbox: httpx.Client) -> None:
    arrival = soon(20)
    open_nights(sandbox, arrival, arrival + timedelta(days=3))
    book(sandbox, arrival)
    r = sandbox.get("/booking/hotels/ota/OTA_HotelResNotif", auth=AUTH)
    room_types = ET.fromstring(r.content).findall(f".//{OTA}RoomTypes/{OTA}RoomType")
    assert len(room_types) == 1
    descriptions = room_types[0].findall(f"{OTA}RoomDescription")
    assert len(descriptions) == 1, "RoomType/RoomDescription is 1..1"
    assert descriptions[0].get("Name")
    assert descriptions[0].findtext(f"{OTA}Text") == descriptions[0].get("Name")


def test_a_guest_pays_the_loaded_price_of_each_night(sandbox: httpx.Client) -> None:
    arrival = soon(30)
    open_nights(sandbox, arrival, arrival + timedelta(days=3), price="80.00")
    r = post(
        sandbox,
        "/hotels/ota/OTA_HotelRateAmountNotif",
        rate_rq(arrival + timedelta(days=1), arrival + timedelta(days=1), "133.45"),
    )
    assert r.status_code == 200, r.text
    res_id = book(sandbox, arrival, nights=3)
    r = sandbox.get("/booking/hotels/ota/OTA_HotelResNotif", auth=AUTH)
    totals = [
        (el.get("EffectiveDate"), el.find(f"{OTA}Rates/{OTA}Rate/{OTA}Total"))
        for el in ET.fromstring(r.content).iter(f"{OTA}RoomRate")
    ]
    assert [(d, t.get("AmountAfterTax") if t is not None else None) for d, t in totals] == [
        (arrival.isoformat(), "8000"),
        ((arrival + timedelta(days=1)).isoformat(), "13345"),
        ((arrival + timedelta(days=2)).isoformat(), "8000"),
    ]
    summary = [x for x in sandbox.get("/control/booking/reservations").json() if x["id"] == res_id]
    assert summary[0]["total"] == "293.45"
    # A change keeps the nights kept at their booked price; a new night costs what is loaded.
    r = sandbox.patch(
        f"/control/booking/bookings/{res_id}",
        json={"departure": (arrival + timedelta(days=4)).isoformat()},
    )
    assert r.status_code == 200, r.text
    assert r.json()["total"] == "373.45"


def test_a_guest_pays_the_occupancy_price_loaded_for_the_party(sandbox: httpx.Client) -> None:
    arrival = soon(30)
    open_nights(sandbox, arrival, arrival + timedelta(days=2), price="90.00")
    occupancy = rate_rq(arrival, arrival + timedelta(days=1), "70.00").replace(
        'CurrencyCode="EUR"/>', 'CurrencyCode="EUR" NumberOfGuests="2"/>'
    )
    assert post(sandbox, "/hotels/ota/OTA_HotelRateAmountNotif", occupancy).status_code == 200
    res_id = book(sandbox, arrival, nights=2)  # two adults
    summary = [x for x in sandbox.get("/control/booking/reservations").json() if x["id"] == res_id]
    assert summary[0]["total"] == "140.00"


@pytest.mark.parametrize(
    ("method", "path", "root"),
    [
        ("POST", "/hotels/ota/OTA_HotelAvailNotif", "OTA_HotelAvailNotifRS"),
        ("POST", "/hotels/ota/OTA_HotelRateAmountNotif", "OTA_HotelRateAmountNotifRS"),
        ("GET", "/hotels/ota/OTA_HotelResNotif", "OTA_HotelResNotifRS"),
        ("GET", "/hotels/ota/OTA_HotelResModifyNotif", "OTA_HotelResModifyNotifRS"),
    ],
)
def test_a_fault_answers_with_the_root_of_its_endpoint(
    sandbox: httpx.Client, method: str, path: str, root: str
) -> None:
    sandbox.put("/control/booking/faults", json={"seed": 5, "error_rate": 1.0}).raise_for_status()
    r = sandbox.request(method, f"/booking{path}", content=b"<x/>", auth=AUTH)
    assert r.status_code == 500
    parsed = ET.fromstring(r.content)
    assert parsed.tag == f"{OTA}{root}"
    assert parsed.find(f"{OTA}Errors/{OTA}Error") is not None


def test_faults_and_rate_limits_of_one_account(sandbox: httpx.Client) -> None:
    other = Token("other-client", "other-client-secret")
    path = "/booking/hotels/ota/OTA_HotelResNotif"
    plan = {"seed": 1, "error_rate": 1.0, "error_status": 503}
    sandbox.put("/control/booking/accounts/sandbox-pms/faults", json=plan).raise_for_status()
    refused = sandbox.get(path, auth=AUTH)
    assert refused.status_code == 503
    assert ET.fromstring(refused.content).tag == f"{OTA}OTA_HotelResNotifRS"
    assert errors(refused)
    assert sandbox.get(path, auth=other).status_code == 200, "other accounts are untouched"
    settings = sandbox.get("/control/booking/settings").json()
    assert settings["faults"]["sandbox"] is None
    assert settings["faults"]["accounts"]["sandbox-pms"]["error_rate"] == 1.0
    assert settings["webhook"]["delivery"] == "pull"
    read = sandbox.get("/control/booking/accounts/sandbox-pms/faults").json()
    assert (read["scope"], read["plan"]["error_status"]) == ("account", 503)
    sandbox.delete("/control/booking/accounts/sandbox-pms/faults").raise_for_status()
    assert sandbox.get(path, auth=AUTH).status_code == 200

    limits = {"requests": 1, "window_s": 60}
    sandbox.put("/control/booking/accounts/other-provider/limits", json=limits).raise_for_status()
    assert sandbox.get(path, auth=other).status_code == 200
    limited = sandbox.get(path, auth=other)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"].isdigit()
    assert [sandbox.get(path, auth=AUTH).status_code for _ in range(2)] == [200, 200]
    own = sandbox.get("/control/booking/accounts/other-provider/limits").json()
    assert (own["scope"], own["requests"]) == ("account", 1)
    wide = sandbox.get("/control/booking/accounts/sandbox-pms/limits").json()
    assert (wide["scope"], wide["requests"]) == ("sandbox", 600)
    assert sandbox.get("/control/booking/settings").json()["limits"] == {
        "sandbox": {"requests": 600, "window_s": 60.0},
        "accounts": {"other-provider": {"requests": 1, "window_s": 60.0}},
    }
    sandbox.delete("/control/booking/accounts/other-provider/limits").raise_for_status()
    assert sandbox.get(path, auth=other).status_code == 200
    bad = sandbox.put("/control/booking/accounts/x/limits", json={"requests": 0, "window_s": 1})
    assert bad.status_code == 422
