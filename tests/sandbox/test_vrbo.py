"""FeWo-direkt/Vrbo simulator: it pulls the PMS's feeds and POSTs quote and booking requests."""

from __future__ import annotations

import asyncio
import base64
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.responses import Response

from tests.sandbox.conftest import Received, Receiver
from tests.services import wait_for

START = datetime.now(UTC).date() + timedelta(days=10)


def feeds(
    base: str, updated: str = "2026-01-01T00:00:00Z", availability: str = "YYYNY"
) -> dict[str, str]:
    """What a PMS hosts: the advertisers index, the sub-indexes and the content documents."""
    end = START + timedelta(days=len(availability) - 1)
    return {
        "/feeds/index": f"""<advertisersContentIndex><documentVersion>4.0</documentVersion>
            <advertiser><advertiserAssignedId>adv-1</advertiserAssignedId>
            <unitAvailabilityContentIndexUrl>{base}/feeds/avail-index
            </unitAvailabilityContentIndexUrl>
            <lodgingRateContentIndexUrl>{base}/feeds/rate-index</lodgingRateContentIndexUrl>
            </advertiser></advertisersContentIndex>""",
        "/feeds/avail-index": f"""<unitAvailabilityContentIndex><unitAvailabilityContentEntry>
            <listingExternalId>501</listingExternalId><unitExternalId>501a</unitExternalId>
            <lastUpdatedDate>{updated}</lastUpdatedDate>
            <unitAvailabilityContentUrl>{base}/feeds/avail/501</unitAvailabilityContentUrl>
            </unitAvailabilityContentEntry></unitAvailabilityContentIndex>""",
        "/feeds/avail/501": f"""<unitAvailabilityContent><listingExternalId>501</listingExternalId>
            <unitExternalId>501a</unitExternalId><unitAvailability>
            <availabilityDefault>Y</availabilityDefault><changeOverDefault>C</changeOverDefault>
            <dateRange><beginDate>{START}</beginDate><endDate>{end}</endDate></dateRange>
            <unitAvailabilityConfiguration><availability>{availability}</availability>
            <changeOver>{"IC" + "C" * (len(availability) - 2)}</changeOver>
            <minStay>{",".join(["2"] * len(availability))}</minStay>
            </unitAvailabilityConfiguration></unitAvailability></unitAvailabilityContent>""",
        "/feeds/rate-index": f"""<lodgingRateContentIndex><lodgingRateContentEntry>
            <listingExternalId>501</listingExternalId><unitExternalId>501a</unitExternalId>
            <lastUpdatedDate>{updated}</lastUpdatedDate>
            <lodgingRateContentUrl>{base}/feeds/rates/501</lodgingRateContentUrl>
            </lodgingRateContentEntry></lodgingRateContentIndex>""",
        "/feeds/rates/501": f"""<lodgingRateContent><listingExternalId>501</listingExternalId>
            <unitExternalId>501a</unitExternalId><lodgingRate><currency>EUR</currency>
            <nightlyRates><nightlyOverride><amount>88.00</amount>
            <dateRange><max>{START + timedelta(days=1)}</max><min>{START}</min></dateRange>
            </nightlyOverride></nightlyRates></lodgingRate></lodgingRateContent>""",
    }


def host(receiver: Receiver, documents: dict[str, str]) -> None:
    def reply(got: Received) -> Response:
        if got.path in documents:
            return Response(documents[got.path], media_type="application/xml")
        return Response("not found", 404)

    receiver.reply = reply


@pytest.fixture
def pms_feeds(sandbox: httpx.Client, receiver: Receiver) -> Receiver:
    host(receiver, feeds(receiver.url))
    sandbox.put(
        "/control/vrbo/config", json={"feed_url": f"{receiver.url}/feeds/index"}
    ).raise_for_status()
    return receiver


def days(client: httpx.Client, end_offset: int = 4) -> list[dict[str, Any]]:
    r = client.get(
        "/control/vrbo/listings/501/days",
        params={"start": str(START), "end": str(START + timedelta(days=end_offset))},
    )
    r.raise_for_status()
    result: list[dict[str, Any]] = r.json()
    return result


def test_an_on_demand_pull_reads_availability_and_rates(
    sandbox: httpx.Client, pms_feeds: Receiver
) -> None:
    report = sandbox.post("/control/vrbo/pull").json()
    assert report["errors"] == []
    assert [f["kind"] for f in report["fetched"]] == [
        "advertisersContentIndex",
        "lodgingRateContentIndex",
        "lodgingRateContent",
        "unitAvailabilityContentIndex",
        "unitAvailabilityContent",
    ]
    seen = days(sandbox)
    assert [d["available"] for d in seen] == [True, True, True, False, True]
    assert [d["price"] for d in seen[:2]] == ["88.00", "88.00"]
    assert seen[0]["closed_to_departure"] is True  # changeOver "I": check-in only
    assert seen[1]["closed_to_departure"] is False
    assert seen[0]["min_stay"] == 2
    # Vrbo authenticates its calls to the PMS
    auth = pms_feeds.received[0].headers["authorization"]
    assert base64.b64decode(auth.split()[1]).decode() == "vrbo-sandbox:vrbo-sandbox-secret"


def test_unchanged_content_is_not_fetched_again(sandbox: httpx.Client, pms_feeds: Receiver) -> None:
    sandbox.post("/control/vrbo/pull").raise_for_status()
    second = sandbox.post("/control/vrbo/pull").json()
    assert [f["kind"] for f in second["fetched"]] == [
        "advertisersContentIndex",
        "lodgingRateContentIndex",
        "unitAvailabilityContentIndex",
    ]
    assert len(second["skipped_unchanged"]) == 2
    host(pms_feeds, feeds(pms_feeds.url, updated="2026-02-01T00:00:00Z", availability="NNNNN"))
    third = sandbox.post("/control/vrbo/pull").json()
    assert "unitAvailabilityContent" in [f["kind"] for f in third["fetched"]]
    assert not any(d["available"] for d in days(sandbox))


def test_malformed_content_is_reported_and_not_applied(
    sandbox: httpx.Client, receiver: Receiver
) -> None:
    documents = feeds(receiver.url)
    documents["/feeds/avail/501"] = documents["/feeds/avail/501"].replace(
        "<availability>YYYNY</availability>", "<availability>YYQ</availability>"
    )
    host(receiver, documents)
    sandbox.put(
        "/control/vrbo/config", json={"feed_url": f"{receiver.url}/feeds/index"}
    ).raise_for_status()
    report = sandbox.post("/control/vrbo/pull").json()
    assert any("availability" in e for e in report["errors"])
    assert not any(d["available"] for d in days(sandbox))
    # a fixed document is read on the next pull (the broken one was not marked as seen)
    host(receiver, feeds(receiver.url))
    assert sandbox.post("/control/vrbo/pull").json()["errors"] == []


def test_feeds_are_pulled_on_a_schedule(sandbox: httpx.Client, receiver: Receiver) -> None:
    host(receiver, feeds(receiver.url))
    sandbox.put(
        "/control/vrbo/config",
        json={"feed_url": f"{receiver.url}/feeds/index", "pull_interval_s": 0.1},
    ).raise_for_status()
    wait_for(
        lambda: (
            len(
                [p for p in sandbox.get("/control/vrbo/feeds").json() if p["trigger"] == "schedule"]
            )
            >= 2
        ),
        10,
        "two scheduled pulls",
    )
    sandbox.put("/control/vrbo/config", json={}).raise_for_status()  # stop the schedule


def booking_answer(status: str = "CONFIRMED") -> Response:
    return Response(
        "<bookingResponse><documentVersion>1.2</documentVersion><bookingResponseDetails>"
        "<advertiserAssignedId>adv-1</advertiserAssignedId>"
        "<listingExternalId>501</listingExternalId><unitExternalId>501a</unitExternalId>"
        f"<externalId>PMS-77</externalId><reservationStatus>{status}</reservationStatus>"
        "</bookingResponseDetails></bookingResponse>",
        media_type="application/xml",
    )


def pms_answering(client: httpx.Client, receiver: Receiver, timeout_s: float = 5) -> None:
    documents = feeds(receiver.url)

    def reply(got: Received) -> Response:
        if got.path in documents:
            return Response(documents[got.path], media_type="application/xml")
        root = ET.fromstring(got.body).tag
        if root == "bookingRequest":
            return booking_answer()
        if root == "quoteRequest":
            return Response(
                "<quoteResponse><quoteResponseDetails><orderList><order><currency>EUR</currency>"
                "<orderItemList><orderItem><feeType>RENTAL</feeType><totalAmount>176.00"
                "</totalAmount></orderItem><orderItem><feeType>CLEANING</feeType><totalAmount>"
                "40.00</totalAmount></orderItem></orderItemList></order></orderList>"
                "</quoteResponseDetails></quoteResponse>",
                media_type="application/xml",
            )
        return Response("<bookingUpdateResponse/>", media_type="application/xml")

    receiver.reply = reply
    client.put(
        "/control/vrbo/config",
        json={
            "feed_url": f"{receiver.url}/feeds/index",
            "booking_url": f"{receiver.url}/vrbo/booking",
            "timeout_s": timeout_s,
        },
    ).raise_for_status()
    client.post("/control/vrbo/pull").raise_for_status()


def test_a_guest_booking_is_a_booking_request_to_the_pms(
    sandbox: httpx.Client, receiver: Receiver
) -> None:
    pms_answering(sandbox, receiver)
    r = sandbox.post(
        "/control/vrbo/bookings",
        json={"listing_id": "501", "arrival": str(START), "departure": str(START + timedelta(2))},
    )
    assert r.status_code == 201, r.text
    booking = r.json()
    assert (booking["status"], booking["external_id"]) == ("confirmed", "PMS-77")
    request = ET.fromstring(receiver.received[-1].body)
    assert request.tag == "bookingRequest"
    assert request.findtext("bookingRequestDetails/reservation/reservationDates/endDate") == str(
        START + timedelta(2)
    )
    assert request.findtext("bookingRequestDetails/orderItemList/orderItem/totalAmount") == "176.00"
    # Like the quote request, the booking request names the traveller's listing page.
    assert request.findtext("bookingRequestDetails/propertyUrl", "").endswith("/501")
    # the stay now blocks those nights in Vrbo's view
    assert [d["available"] for d in days(sandbox, 2)] == [False, False, True]

    sandbox.patch(
        f"/control/vrbo/bookings/{booking['id']}", json={"departure": str(START + timedelta(1))}
    ).raise_for_status()
    sandbox.post(f"/control/vrbo/bookings/{booking['id']}/cancel").raise_for_status()
    updates = [ET.fromstring(r.body) for r in receiver.received[-2:]]
    assert [u.findtext("bookingUpdateRequestDetails/action") for u in updates] == [
        "MODIFY",
        "CANCEL",
    ]
    assert updates[0].findtext("bookingUpdateRequestDetails/externalId") == "PMS-77"


def test_a_quote_request_sums_the_pms_order_items(
    sandbox: httpx.Client, receiver: Receiver
) -> None:
    pms_answering(sandbox, receiver)
    r = sandbox.post(
        "/control/vrbo/quotes",
        json={"listing_id": "501", "arrival": str(START), "departure": str(START + timedelta(2))},
    )
    assert r.json()["outcome"] == "answered"
    assert (r.json()["total"], r.json()["currency"]) == ("216.00", "EUR")


def test_a_pms_that_answers_too_late_loses_the_booking(
    sandbox: httpx.Client, receiver: Receiver
) -> None:
    pms_answering(sandbox, receiver, timeout_s=0.2)

    async def slow(got: Received) -> Response:
        await asyncio.sleep(1)  # the PMS being slow is the point of this test
        return booking_answer()

    receiver.reply = slow
    r = sandbox.post(
        "/control/vrbo/bookings",
        json={"listing_id": "501", "arrival": str(START), "departure": str(START + timedelta(2))},
    )
    assert r.json()["status"] == "failed"
    assert r.json()["exchanges"][0]["outcome"] == "timeout"


def test_a_refusal_with_an_error_list_books_nothing(
    sandbox: httpx.Client, receiver: Receiver
) -> None:
    pms_answering(sandbox, receiver)
    receiver.reply = lambda got: Response(
        "<bookingResponse><bookingResponseDetails><errorList><error>"
        "<errorCode>DATES_NOT_AVAILABLE</errorCode><errorMessage>taken</errorMessage>"
        "</error></errorList></bookingResponseDetails></bookingResponse>",
        media_type="application/xml",
    )
    r = sandbox.post(
        "/control/vrbo/bookings",
        json={"listing_id": "501", "arrival": str(START), "departure": str(START + timedelta(2))},
    )
    assert r.json()["status"] == "failed"
    assert r.json()["exchanges"][0]["outcome"] == "refused"
    assert r.json()["exchanges"][0]["error"].startswith("DATES_NOT_AVAILABLE")
    assert all(d["available"] for d in days(sandbox, 1))


def test_unchanged_feeds_are_revalidated_with_their_etag(
    sandbox: httpx.Client, receiver: Receiver
) -> None:
    pms_answering(sandbox, receiver)
    documents = feeds(receiver.url)

    def reply(got: Received) -> Response:
        if got.headers.get("if-none-match") == '"v1"':
            return Response(status_code=304, headers={"ETag": '"v1"'})
        return Response(documents[got.path], media_type="application/xml", headers={"ETag": '"v1"'})

    receiver.reply = reply
    sandbox.post("/control/vrbo/pull").raise_for_status()
    second = sandbox.post("/control/vrbo/pull").json()
    assert second["errors"] == []
    index_fetches = [f for f in second["fetched"] if f["kind"].endswith("Index")]
    assert index_fetches
    assert {f["status"] for f in index_fetches} == {304}


def test_an_answer_in_the_wrong_shape_is_invalid(sandbox: httpx.Client, receiver: Receiver) -> None:
    pms_answering(sandbox, receiver)
    receiver.reply = lambda got: Response("<ok/>", media_type="application/xml")
    r = sandbox.post(
        "/control/vrbo/bookings",
        json={"listing_id": "501", "arrival": str(START), "departure": str(START + timedelta(2))},
    )
    assert r.json()["status"] == "failed"
    assert r.json()["exchanges"][0]["outcome"] == "invalid"


def test_travellers_see_the_same_calendar(sandbox: httpx.Client, pms_feeds: Receiver) -> None:
    sandbox.post("/control/vrbo/pull").raise_for_status()
    r = sandbox.get(
        "/vrbo/listings/501/calendar",
        params={"start": str(START), "end": str(START + timedelta(4))},
    )
    assert [d["available"] for d in r.json()] == [True, True, True, False, True]


def test_faults_on_vrbo_paths_replay_from_the_seed(
    sandbox: httpx.Client, pms_feeds: Receiver
) -> None:
    sandbox.post("/control/vrbo/pull").raise_for_status()

    def run() -> list[int]:
        sandbox.put(
            "/control/vrbo/faults", json={"seed": 5, "error_rate": 0.3, "rate_limit_rate": 0.3}
        ).raise_for_status()
        return [
            sandbox.get(
                "/vrbo/listings/501/calendar", params={"start": str(START), "end": str(START)}
            ).status_code
            for _ in range(20)
        ]

    first = run()
    assert first == run()
    assert {200, 429, 500} <= set(first)


def test_a_backwards_range_or_an_unread_listing_is_refused(sandbox: httpx.Client) -> None:
    r = sandbox.get(
        "/control/vrbo/listings/501/days",
        params={"start": str(START), "end": str(START - timedelta(days=1))},
    )
    assert r.status_code == 422
    r = sandbox.get(
        "/control/vrbo/listings/501/days", params={"start": str(START), "end": str(START)}
    )
    assert r.status_code == 404


def test_past_the_rate_limit_is_429_with_retry_after(
    sandbox: httpx.Client, pms_feeds: Receiver
) -> None:
    sandbox.post("/control/vrbo/pull").raise_for_status()
    sandbox.put("/control/vrbo/limits", json={"requests": 1, "window_s": 30}).raise_for_status()
    params = {"start": str(START), "end": str(START)}
    assert sandbox.get("/vrbo/listings/501/calendar", params=params).status_code == 200
    r = sandbox.get("/vrbo/listings/501/calendar", params=params)
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 30
