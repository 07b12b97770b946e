"""Expedia QuickConnect simulator: AR, BR, BC and PARR with credentials in the body."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import httpx

from tests.sandbox.conftest import Served

AR_NS = "http://www.expediaconnect.com/EQC/AR/2011/06"
BR_NS = "http://www.expediaconnect.com/EQC/BR/2014/01"
BC_NS = "http://www.expediaconnect.com/EQC/BC/2007/09"
HOTEL, ROOM, RATE = "12933870", "201357986", "206651831A"
AUTH = '<Authentication username="EQCsandbox" password="eqc-pass"/>'


BC_RS_NS = "{http://www.expediaconnect.com/EQC/BC/2007/08}"


def soon(days: int) -> date:
    return datetime.now(UTC).date() + timedelta(days=days)


def ar(
    start: date,
    end: date,
    *,
    hotel: str = HOTEL,
    room: str = ROOM,
    units: int = 1,
    price: str = "120.00",
    auth: str = AUTH,
    ns: str = AR_NS,
    extra: str = "",
) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><AvailRateUpdateRQ xmlns="{ns}">{auth}'
        f'<Hotel id="{hotel}"/><AvailRateUpdate><DateRange from="{start}" to="{end}"/>'
        f'<RoomType id="{room}" closed="false"><Inventory totalInventoryAvailable="{units}"/>'
        f'<RatePlan id="{RATE}" closed="false"><Rate currency="EUR"><PerDay rate="{price}"/>'
        '</Rate><Restrictions closedToArrival="false" closedToDeparture="false" minLOS="2" '
        f'maxLOS="28"/></RatePlan></RoomType></AvailRateUpdate>{extra}</AvailRateUpdateRQ>'
    )


def br(params: str = "", hotel: str | None = HOTEL) -> str:
    hotel_el = f'<Hotel id="{hotel}"/>' if hotel else ""
    param_set = f"<ParamSet>{params}</ParamSet>" if params else ""
    return f'<BookingRetrievalRQ xmlns="{BR_NS}">{AUTH}{hotel_el}{param_set}</BookingRetrievalRQ>'


def bc(booking_id: str, kind: str, number: str) -> str:
    return (
        f'<BookingConfirmRQ xmlns="{BC_NS}">{AUTH}<Hotel id="{HOTEL}"/><BookingConfirmNumbers>'
        f'<BookingConfirmNumber bookingID="{booking_id}" bookingType="{kind}" '
        f'confirmNumber="{number}" confirmTime="2026-03-02T09:30:47Z"/>'
        "</BookingConfirmNumbers></BookingConfirmRQ>"
    )


def post(client: httpx.Client, api: str, body: str) -> ET.Element:
    r = client.post(
        f"/expedia/eqc/{api}", content=body.encode(), headers={"Content-Type": "text/xml"}
    )
    assert r.status_code == 200, r.text
    return ET.fromstring(r.content)


def error_code(root: ET.Element) -> str | None:
    error = next((e for e in root if e.tag.endswith("}Error")), None)
    return None if error is None else error.get("code")


def success(root: ET.Element) -> bool:
    return any(e.tag.endswith("}Success") for e in root)


def bookings(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{{{BR_NS}}}Bookings/{{{BR_NS}}}Booking")


def test_an_ar_update_is_accepted_and_inclusive_of_to(sandbox: httpx.Client) -> None:
    start, end = soon(10), soon(12)
    root = post(sandbox, "ar", ar(start, end, units=2))
    assert root.tag == "{http://www.expediaconnect.com/EQC/AR/2007/02}AvailRateUpdateRS"
    assert success(root)
    days = sandbox.get(
        f"/control/expedia/listings/{HOTEL}/days",
        params={"start": str(start), "end": str(end + timedelta(1))},
    ).json()
    mine = [d for d in days if d["rate_plan_id"] == RATE]
    assert [d["units"] for d in mine] == [2, 2, 2, None]
    assert mine[0]["price"] == "120.00"
    assert mine[0]["min_stay"] == 2


def test_the_2007_namespace_is_still_accepted(sandbox: httpx.Client) -> None:
    old = "http://www.expediaconnect.com/EQC/AR/2007/02"
    assert success(post(sandbox, "ar", ar(soon(3), soon(3), ns=old)))


def test_an_ar_with_a_foreign_room_type_is_refused_entirely(sandbox: httpx.Client) -> None:
    start = soon(5)
    second = (
        f'<AvailRateUpdate><DateRange from="{start}" to="{start}"/>'
        '<RoomType id="999"><Inventory totalInventoryAvailable="1"/></RoomType>'
        "</AvailRateUpdate>"
    )
    root = post(sandbox, "ar", ar(start, start, units=3, extra=second))
    assert error_code(root) == "3203"
    assert not success(root)
    days = sandbox.get(
        f"/control/expedia/listings/{HOTEL}/days", params={"start": str(start), "end": str(start)}
    ).json()
    assert days[0]["units"] is None, "nothing of a refused AR is applied"


def test_wrong_credentials_are_error_1001(sandbox: httpx.Client) -> None:
    bad = '<Authentication username="EQCsandbox" password="nope"/>'
    assert error_code(post(sandbox, "ar", ar(soon(3), soon(3), auth=bad))) == "1001"
    assert error_code(post(sandbox, "ar", ar(soon(3), soon(3), auth=""))) == "1001"


def test_another_accounts_hotel_is_refused(sandbox: httpx.Client) -> None:
    root = post(sandbox, "ar", ar(soon(3), soon(3), hotel="12939999", room="201359999"))
    assert error_code(root) == "1002"


def test_malformed_and_wrongly_encoded_messages_are_parse_errors(sandbox: httpx.Client) -> None:
    assert error_code(post(sandbox, "ar", "<AvailRateUpdateRQ><nope")) == "2002"
    lower = ar(soon(3), soon(3)).replace('encoding="UTF-8"', 'encoding="utf-8"')
    assert error_code(post(sandbox, "ar", lower)) == "2002"
    wrong_ns = ar(soon(3), soon(3), ns="http://example.com/other")
    assert error_code(post(sandbox, "ar", wrong_ns)) == "2002"


def test_an_ar_over_100_kb_is_refused(sandbox: httpx.Client) -> None:
    start = soon(3)
    one = (
        f'<AvailRateUpdate><DateRange from="{start}" to="{start}"/><RoomType id="{ROOM}">'
        '<Inventory totalInventoryAvailable="1"/></RoomType></AvailRateUpdate>'
    )
    big = ar(start, start, extra=one * (100 * 1024 // len(one) + 1))
    assert len(big.encode()) > 100 * 1024
    assert error_code(post(sandbox, "ar", big)) == "2010"


def test_past_the_rate_limit_is_429_with_retry_after(sandbox: httpx.Client) -> None:
    sandbox.put("/control/expedia/limits", json={"requests": 1, "window_s": 20}).raise_for_status()
    post(sandbox, "ar", ar(soon(3), soon(3)))
    r = sandbox.post("/expedia/eqc/ar", content=ar(soon(3), soon(3)).encode())
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 20
    assert error_code(ET.fromstring(r.content)) == "4201"


def test_an_injected_rate_limit_uses_the_same_code_as_the_real_one(sandbox: httpx.Client) -> None:
    plan = {"seed": 4, "rate_limit_rate": 1.0, "retry_after_s": 3}
    sandbox.put("/control/expedia/faults", json=plan).raise_for_status()
    r = sandbox.post("/expedia/eqc/ar", content=ar(soon(3), soon(3)).encode())
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "3"
    assert error_code(ET.fromstring(r.content)) == "4201"
    plan = {"seed": 4, "error_rate": 1.0}
    sandbox.put("/control/expedia/faults", json=plan).raise_for_status()
    r = sandbox.post("/expedia/eqc/ar", content=ar(soon(3), soon(3)).encode())
    assert r.status_code == 500
    assert error_code(ET.fromstring(r.content)) == "4000"


async def test_one_concurrent_connection_per_hotel(sandbox_server: Served) -> None:
    async with httpx.AsyncClient(base_url=sandbox_server.url, timeout=10) as client:
        (await client.post("/control/reset")).raise_for_status()
        (await client.put("/control/expedia/processing", json={"delay_s": 0.3})).raise_for_status()
        body = ar(soon(3), soon(3)).encode()
        first, second = await asyncio.gather(
            client.post("/expedia/eqc/ar", content=body),
            client.post("/expedia/eqc/ar", content=body),
        )
        codes = sorted(error_code(ET.fromstring(r.content)) or "ok" for r in (first, second))
        assert codes == ["4100", "ok"]
        third = await client.post("/expedia/eqc/ar", content=body)
        assert error_code(ET.fromstring(third.content)) is None


def open_and_book(client: httpx.Client, arrival: date) -> str:
    post(client, "ar", ar(arrival, arrival + timedelta(5)))
    r = client.post(
        "/control/expedia/bookings",
        json={
            "listing_id": HOTEL,
            "arrival": str(arrival),
            "departure": str(arrival + timedelta(2)),
        },
    )
    assert r.status_code == 201, r.text
    booking_id: str = r.json()["id"]
    return booking_id


def test_bookings_go_pending_retrieved_confirmed(sandbox: httpx.Client) -> None:
    booking_id = open_and_book(sandbox, soon(20))
    (first,) = bookings(post(sandbox, "br", br()))
    assert (first.get("id"), first.get("type"), first.get("status")) == (
        booking_id,
        "Book",
        "pending",
    )
    (again,) = bookings(post(sandbox, "br", br()))
    assert again.get("status") == "retrieved", "an unconfirmed booking comes back"
    stay = again.find(f"{{{BR_NS}}}RoomStay/{{{BR_NS}}}StayDate")
    assert stay is not None
    assert stay.get("departure") == str(soon(22))
    root = post(sandbox, "bc", bc(booking_id, "Book", "PMS-123"))
    assert root.tag == "{http://www.expediaconnect.com/EQC/BC/2007/08}BookingConfirmRS"
    assert success(root)
    assert bookings(post(sandbox, "br", br())) == [], "a confirmed booking never comes back"
    recorded = sandbox.get("/control/expedia/bookings").json()[0]["messages"][0]
    assert (recorded["status"], recorded["confirm_number"]) == ("confirmed", "PMS-123")


def test_modify_and_cancel_arrive_with_the_hotels_confirm_number(sandbox: httpx.Client) -> None:
    booking_id = open_and_book(sandbox, soon(20))
    bookings(post(sandbox, "br", br()))
    post(sandbox, "bc", bc(booking_id, "Book", "PMS-9"))
    sandbox.patch(
        f"/control/expedia/bookings/{booking_id}", json={"departure": str(soon(23))}
    ).raise_for_status()
    (modify,) = bookings(post(sandbox, "br", br()))
    assert (modify.get("type"), modify.get("confirmNumber")) == ("Modify", "PMS-9")
    post(sandbox, "bc", bc(booking_id, "Modify", "PMS-9-M"))
    sandbox.post(f"/control/expedia/bookings/{booking_id}/cancel").raise_for_status()
    (cancel,) = bookings(post(sandbox, "br", br()))
    room = cancel.find(f"{{{BR_NS}}}RoomStay")
    assert room is not None
    assert (cancel.get("type"), room.get("roomTypeID"), room.get("ratePlanID")) == (
        "Cancel",
        "0",
        "0",
    )
    post(sandbox, "bc", bc(booking_id, "Cancel", "PMS-9-C"))
    assert bookings(post(sandbox, "br", br())) == []
    messages = sandbox.get("/control/expedia/bookings").json()[0]["messages"]
    assert [m["confirm_number"] for m in messages] == ["PMS-9", "PMS-9-M", "PMS-9-C"]


def test_confirmations_are_counted_per_message_repeats_included(sandbox: httpx.Client) -> None:
    booking_id = open_and_book(sandbox, soon(20))

    def confirmations() -> list[int]:
        found = sandbox.get("/control/expedia/bookings").json()
        return [m["confirmations"] for x in found if x["id"] == booking_id for m in x["messages"]]

    bookings(post(sandbox, "br", br()))
    assert confirmations() == [0]
    assert success(post(sandbox, "bc", bc(booking_id, "Book", "PMS-1")))
    assert confirmations() == [1]
    # the same number again (as after a lost response): accepted, counted
    assert success(post(sandbox, "bc", bc(booking_id, "Book", "PMS-1")))
    assert confirmations() == [2]
    # another number for a confirmed message is refused: not counted
    root = post(sandbox, "bc", bc(booking_id, "Book", "PMS-2"))
    assert root.find(f"{BC_RS_NS}Success/{BC_RS_NS}Warning") is not None
    # two modifications before a confirmation: one BC of the type confirms both, once each
    for nights in (3, 4):
        sandbox.patch(
            f"/control/expedia/bookings/{booking_id}", json={"departure": str(soon(20 + nights))}
        ).raise_for_status()
    assert success(post(sandbox, "bc", bc(booking_id, "Modify", "PMS-1")))
    assert confirmations() == [2, 1, 1]


def test_a_confirmation_can_be_refused_with_a_warning(sandbox: httpx.Client) -> None:
    booking_id = open_and_book(sandbox, soon(20))
    r = sandbox.put(
        f"/control/expedia/bookings/{booking_id}/refuse-confirmations", json={"times": 1}
    )
    assert r.status_code == 200, r.text
    unknown = sandbox.put("/control/expedia/bookings/404/refuse-confirmations", json={})
    assert unknown.status_code == 404
    root = post(sandbox, "bc", bc(booking_id, "Book", "PMS-1"))
    warning = root.find(f"{BC_RS_NS}Success/{BC_RS_NS}Warning")
    assert warning is not None
    assert (warning.get("code"), warning.get("bookingID")) == ("10081", booking_id)
    (found,) = sandbox.get("/control/expedia/bookings").json()
    assert [m["status"] for m in found["messages"]] == ["pending"]
    # only as many times as asked: the next confirmation is taken
    root = post(sandbox, "bc", bc(booking_id, "Book", "PMS-1"))
    assert root.find(f"{BC_RS_NS}Success/{BC_RS_NS}Warning") is None


def test_confirming_an_unknown_booking_is_a_warning(sandbox: httpx.Client) -> None:
    root = post(sandbox, "bc", bc("42", "Book", "PMS-1"))
    ns = "{http://www.expediaconnect.com/EQC/BC/2007/08}"
    warning = root.find(f"{ns}Success/{ns}Warning")
    assert warning is not None
    assert (warning.get("code"), warning.get("bookingID")) == ("10081", "42")


def test_br_returns_at_most_125_bookings_newest_first(sandbox: httpx.Client) -> None:
    for i in range(130):
        arrival = soon(10 + i)
        sandbox.post(
            "/control/expedia/bookings",
            json={
                "listing_id": HOTEL,
                "arrival": str(arrival),
                "departure": str(arrival + timedelta(1)),
                "force": True,
            },
        ).raise_for_status()
    found = bookings(post(sandbox, "br", br()))
    assert len(found) == 125
    stamps = [b.get("createDateTime") or "" for b in found]
    assert stamps == sorted(stamps, reverse=True)
    assert len(bookings(post(sandbox, "br", br()))) == 125  # the 5 oldest are still waiting


def test_parr_reads_back_products_and_rates(sandbox: httpx.Client) -> None:
    start = soon(7)
    post(sandbox, "ar", ar(start, start, price="99.00"))
    ns = "http://www.expediaconnect.com/EQC/PAR/2013/07"
    rq = (
        f'<ProductAvailRateRetrievalRQ xmlns="{ns}">{AUTH}<Hotel id="{HOTEL}"/><ParamSet>'
        f'<AvailRateRetrieval from="{start}" to="{start}"/></ParamSet>'
        "</ProductAvailRateRetrievalRQ>"
    )
    root = post(sandbox, "parr", rq)
    per_day = root.find(f".//{{{ns}}}RatePlan[@id='{RATE}']/{{{ns}}}Rate/{{{ns}}}PerDay")
    assert per_day is not None
    assert per_day.get("rate") == "99.00"


def test_faults_and_rate_limits_of_one_account(sandbox: httpx.Client) -> None:
    other = br(hotel="12939999").replace(
        AUTH, '<Authentication username="EQCother" password="other-pass"/>'
    )
    plan = {"seed": 2, "rate_limit_rate": 1.0, "retry_after_s": 7}
    sandbox.put("/control/expedia/accounts/EQCsandbox/faults", json=plan).raise_for_status()
    r = sandbox.post("/expedia/eqc/br", content=br().encode())
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "7"
    root = ET.fromstring(r.content)
    assert root.tag == f"{{{BR_NS}}}BookingRetrievalRS"
    assert error_code(root) == "4201", "the same code as the simulator's own rate limit"
    assert error_code(post(sandbox, "br", other)) is None, "other accounts are untouched"
    expired = {"seed": 2, "expired_credentials": True}
    sandbox.put("/control/expedia/accounts/EQCother/faults", json=expired).raise_for_status()
    assert error_code(post(sandbox, "br", other)) == "1001"
    settings = sandbox.get("/control/expedia/settings").json()
    assert sorted(settings["faults"]["accounts"]) == ["EQCother", "EQCsandbox"]
    assert settings["webhook"] == {"delivery": "pull", "url": None, "queues": ["BR"]}
    for account in ("EQCsandbox", "EQCother"):
        sandbox.delete(f"/control/expedia/accounts/{account}/faults").raise_for_status()
    assert error_code(post(sandbox, "br", br())) is None

    sandbox.put(
        "/control/expedia/accounts/EQCother/limits", json={"requests": 1, "window_s": 30}
    ).raise_for_status()
    post(sandbox, "br", other)
    r = sandbox.post("/expedia/eqc/br", content=other.encode())
    assert r.status_code == 429
    assert error_code(ET.fromstring(r.content)) == "4201"
    assert error_code(post(sandbox, "br", br())) is None, "other accounts keep the sandbox limit"
