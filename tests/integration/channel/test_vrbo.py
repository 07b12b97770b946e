"""FeWo-direkt/Vrbo over real HTTP with the simulator: Vrbo pulls the feeds we host (304 when
nothing changed), quotes our price, books exactly once under the inventory guard (one CONFIRMED
out of 20 concurrent requests), and reads our cancellations from the booking-update feed. Bad
input is a 4xx; another connection's credentials read nothing."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx

from tests.integration.channel.helpers import core_ari, window
from tests.integration.direct.engine import Engine, engine_agency
from tests.sandbox.conftest import Served
from tests.services import plain

PASSWORD = "vrbo-feed-password-1"


@dataclass
class VrboSetup:
    e: Engine
    connection_id: str
    base: str  # our endpoints for this connection
    username: str


async def connect_vrbo(
    client: httpx.AsyncClient, api_url: str, e: Engine, listing: str = "501"
) -> VrboSetup:
    username = f"vrbo-{uuid.uuid4().hex[:8]}"
    r = await client.post(
        "/api/v1/channel-connections",
        json={
            "platform": "fewo_direkt",
            "credentials": {
                "username": username,
                "password": PASSWORD,
                "advertiser_id": f"adv-{username}",
                "listings": listing,
            },
        },
        headers=e.agency.auth(),
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert "password" not in r.text
    r = await client.post(
        f"/api/v1/channel-connections/{cid}/mappings",
        json={"remote_listing_id": listing, "property_id": e.property_id},
        headers=e.agency.auth(),
    )
    assert r.status_code == 201, r.text
    return VrboSetup(e, cid, f"{api_url}/api/v1/channels/fewo_direkt/{cid}", username)


async def point_simulator(sandbox: httpx.AsyncClient, v: VrboSetup) -> None:
    (await sandbox.post("/control/reset")).raise_for_status()
    r = await sandbox.put(
        "/control/vrbo/config",
        json={
            "feed_url": f"{v.base}/feeds/advertisersContentIndex",
            "booking_url": f"{v.base}/booking",
            "username": v.username,
            "password": PASSWORD,
            "timeout_s": 10,
        },
    )
    r.raise_for_status()


async def pull(sandbox: httpx.AsyncClient) -> dict[str, Any]:
    r = await sandbox.post("/control/vrbo/pull")
    r.raise_for_status()
    report: dict[str, Any] = r.json()
    assert report["errors"] == [], report
    return report


async def core_bookings(database_url: str, agency_id: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(plain(database_url))
    try:
        return list(
            await conn.fetch(
                "SELECT id, status, channel_booking_id, check_in, check_out FROM bookings "
                "WHERE agency_id = $1 AND source = 'fewo_direkt'",
                uuid.UUID(agency_id),
            )
        )
    finally:
        await conn.close()


def stay(days_ahead: int, nights: int = 3) -> tuple[date, date]:
    start, _ = window()
    return start + timedelta(days=days_ahead), start + timedelta(days=days_ahead + nights)


async def test_feeds_quote_book_once_and_booking_updates(
    api: httpx.AsyncClient, api_url: str, sandbox_server: Served, database_url: str
) -> None:
    sandbox = httpx.AsyncClient(base_url=sandbox_server.url, timeout=30)
    e = await engine_agency(api)
    v = await connect_vrbo(api, api_url, e)
    await point_simulator(sandbox, v)

    # The first pull reads the advertisers index, the four indexes and four documents.
    first = await pull(sandbox)
    kinds = [f["kind"] for f in first["fetched"]]
    assert kinds.count("advertisersContentIndex") == 1
    for kind in (
        "listingContent",
        "lodgingConfigurationContent",
        "lodgingRateContent",
        "unitAvailabilityContent",
    ):
        assert kinds.count(kind) == 1, kinds
    assert all(f["status"] == 200 for f in first["fetched"]), first

    # What Vrbo now shows is Core's ARI: availability, price, min stay, change-over.
    start, end = window(days=60)
    core = await core_ari(api, e.agency, start, end)
    r = await sandbox.get(
        "/control/vrbo/listings/501/days",
        params={"start": start.isoformat(), "end": (end - timedelta(days=1)).isoformat()},
    )
    r.raise_for_status()
    shown = {d["date"]: d for d in r.json()}
    for d in core:
        s = shown[d["date"]]
        assert s["available"] == d["available"], d["date"]
        assert Decimal(s["price"]) == Decimal(d["price"]["amount"]), d["date"]
        assert s["min_stay"] == d["min_stay"], d["date"]
        assert s["closed_to_arrival"] == d["closed_to_arrival"], d["date"]
    listings = (await sandbox.get("/control/vrbo/listings")).json()
    assert listings["rates"]["501"]["fees"], "the property's fees are in the rate feed"

    # Nothing changed: every feed answers 304 and no document is read again.
    second = await pull(sandbox)
    assert second["fetched"], second
    assert {f["status"] for f in second["fetched"]} == {304}, second["fetched"]
    assert len(second["skipped_unchanged"]) == 4

    # A quote is our public quote for the same stay, to the cent.
    check_in, check_out = stay(40)
    r = await sandbox.post(
        "/control/vrbo/quotes",
        json={
            "listing_id": "501",
            "arrival": check_in.isoformat(),
            "departure": check_out.isoformat(),
            "adults": 2,
        },
    )
    r.raise_for_status()
    quoted = r.json()
    assert quoted["outcome"] == "answered", quoted
    r = await api.post(
        e.url("/quotes"),
        json={
            "property_id": e.property_id,
            "check_in": check_in.isoformat(),
            "check_out": check_out.isoformat(),
            "adults": 2,
        },
    )
    assert r.status_code == 200, r.text
    assert Decimal(quoted["total"]) == Decimal(r.json()["total"]["amount"])

    # A guest books on Vrbo: the booking is in Core exactly once, with our id on Vrbo.
    r = await sandbox.post(
        "/control/vrbo/bookings",
        json={
            "listing_id": "501",
            "arrival": check_in.isoformat(),
            "departure": check_out.isoformat(),
            "adults": 2,
        },
    )
    assert r.status_code == 201, r.text
    booked = r.json()
    assert booked["status"] == "confirmed", booked
    rows = await core_bookings(database_url, e.agency.id)
    assert len(rows) == 1
    assert str(rows[0]["id"]) == booked["external_id"]
    assert rows[0]["channel_booking_id"] == booked["id"]
    assert (rows[0]["check_in"], rows[0]["check_out"]) == (check_in, check_out)

    # The booked nights changed the availability document: only it is read again.
    third = await pull(sandbox)
    read = [f["kind"] for f in third["fetched"] if f["status"] == 200]
    assert "unitAvailabilityContent" in read, third
    assert "listingContent" not in read, third
    r = await sandbox.get(
        "/control/vrbo/listings/501/days",
        params={"start": check_in.isoformat(), "end": check_in.isoformat()},
    )
    assert r.json()[0]["available"] is False

    # We cancel it: the booking-update feed says so.
    r = await api.post(
        f"/api/v1/bookings/{booked['external_id']}/cancel",
        json={},
        headers={**e.agency.auth(), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 200, r.text
    r = await httpx.AsyncClient().get(
        f"{v.base}/booking-updates", auth=(v.username, PASSWORD), timeout=10
    )
    assert r.status_code == 200, r.text
    assert f"<externalId>{booked['external_id']}</externalId>" in r.text
    assert "<reservationStatus>CANCELLED</reservationStatus>" in r.text


async def test_twenty_concurrent_booking_requests_confirm_one(
    api: httpx.AsyncClient, api_url: str, sandbox_server: Served, database_url: str
) -> None:
    sandbox = httpx.AsyncClient(base_url=sandbox_server.url, timeout=60)
    e = await engine_agency(api, "Vrbo Race")
    v = await connect_vrbo(api, api_url, e, "601")
    await point_simulator(sandbox, v)
    await pull(sandbox)
    check_in, check_out = stay(50)

    async def one(i: int) -> dict[str, Any]:
        r = await sandbox.post(
            "/control/vrbo/bookings",
            json={
                "listing_id": "601",
                "arrival": check_in.isoformat(),
                "departure": check_out.isoformat(),
                "email": f"race{i}@example.com",
                # Past Vrbo's own check: every request reaches us, as in a real race.
                "force": True,
            },
        )
        assert r.status_code == 201, r.text
        result: dict[str, Any] = r.json()
        return result

    results = await asyncio.gather(*(one(i) for i in range(20)))
    confirmed = [x for x in results if x["status"] == "confirmed"]
    assert len(confirmed) == 1, [x["status"] for x in results]
    refused = [x for x in results if x["status"] == "failed"]
    assert len(refused) == 19
    assert all(
        x["exchanges"][-1]["outcome"] == "refused"
        and "DATES_NOT_AVAILABLE" in x["exchanges"][-1]["error"]
        for x in refused
    ), refused[0]
    rows = await core_bookings(database_url, e.agency.id)
    assert [str(r["id"]) for r in rows] == [confirmed[0]["external_id"]]


async def test_bad_input_wrong_credentials_and_other_agencies(
    api: httpx.AsyncClient, api_url: str, sandbox_server: Served
) -> None:
    e = await engine_agency(api, "Vrbo A")
    v = await connect_vrbo(api, api_url, e, "701")
    other = await connect_vrbo(api, api_url, await engine_agency(api, "Vrbo B"), "702")
    # Vrbo quotes from our engine: a markup on the feed's prices would differ from the quote.
    r = await api.get(
        f"/api/v1/channel-connections/{v.connection_id}/mappings", headers=e.agency.auth()
    )
    [mapping] = r.json()["items"] if isinstance(r.json(), dict) else r.json()
    r = await api.patch(
        f"/api/v1/channel-mappings/{mapping['id']}",
        json={"markup_kind": "percent", "markup_value": 1000},
        headers={**e.agency.auth(), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 422, r.text
    index = f"{v.base}/feeds/advertisersContentIndex"
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.get(index)).status_code == 401
        assert (await http.get(index, auth=(v.username, "wrong-password!"))).status_code == 401
        # Agency B's own, valid credentials do not open agency A's connection.
        r = await http.get(index, auth=(other.username, PASSWORD))
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        assert PASSWORD not in r.text
        ok = await http.get(index, auth=(v.username, PASSWORD))
        assert ok.status_code == 200
        assert "<advertisersContentIndex>" in ok.text
        # Conditional GETs: the same ETag is a 304.
        again = await http.get(
            index, auth=(v.username, PASSWORD), headers={"If-None-Match": ok.headers["etag"]}
        )
        assert again.status_code == 304
        assert (
            await http.get(f"{v.base}/feeds/nonsenseIndex", auth=(v.username, PASSWORD))
        ).status_code == 404
        assert (
            await http.get(
                f"{v.base}/feeds/unitAvailabilityContent/702", auth=(v.username, PASSWORD)
            )
        ).status_code == 404

        async def post(body: str) -> httpx.Response:
            return await http.post(
                f"{v.base}/booking",
                content=body.encode(),
                headers={"Content-Type": "application/xml"},
                auth=(v.username, PASSWORD),
            )

        for bad in (
            "<quoteRequest>",
            '<!DOCTYPE x [<!ENTITY a "b">]><quoteRequest/>',
            "<somethingElse/>",
            "<quoteRequest><quoteRequestDetails><listingExternalId>701</listingExternalId>"
            "<reservation><reservationDates><beginDate>2030-05-05</beginDate>"
            "<endDate>2030-05-01</endDate></reservationDates></reservation>"
            "</quoteRequestDetails></quoteRequest>",
        ):
            r = await post(bad)
            assert r.status_code == 400, (bad, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")

        # The same booking request twice is one reservation; other nights-sharing requests
        # get the documented failure and book nothing.
        check_in, check_out = stay(30, 2)

        def booking(tracking: str) -> str:
            return (
                "<bookingRequest><documentVersion>1.2</documentVersion><bookingRequestDetails>"
                f"<listingExternalId>701</listingExternalId><trackingUuid>{tracking}"
                "</trackingUuid><reservation><numberOfAdults>2</numberOfAdults>"
                f"<reservationDates><beginDate>{check_in}</beginDate><endDate>{check_out}"
                "</endDate></reservationDates></reservation></bookingRequestDetails>"
                "</bookingRequest>"
            )

        first = await post(booking("T-1"))
        assert first.status_code == 200, first.text
        assert "<reservationStatus>CONFIRMED</reservationStatus>" in first.text, first.text
        again = await post(booking("T-1"))
        external = first.text.split("<externalId>")[1].split("<")[0]
        assert f"<externalId>{external}</externalId>" in again.text, again.text
        r = await post(booking("T-2"))
        assert r.status_code == 200, r.text
        assert "<errorCode>DATES_NOT_AVAILABLE</errorCode>" in r.text
        assert "<reservationStatus>" not in r.text


async def test_request_to_book_is_unconfirmed_until_staff_confirm(
    api: httpx.AsyncClient, api_url: str
) -> None:
    e = await engine_agency(api, "Vrbo Requests")
    r = await api.patch(
        f"/api/v1/properties/{e.property_id}",
        json={"instant_book": False},
        headers=e.agency.auth(),
    )
    assert r.status_code == 200, r.text
    v = await connect_vrbo(api, api_url, e, "801")
    check_in, check_out = stay(60, 3)
    body = (
        "<bookingRequest><documentVersion>1.2</documentVersion><bookingRequestDetails>"
        "<listingExternalId>801</listingExternalId><trackingUuid>R-1</trackingUuid>"
        "<inquirer><firstName>Ida</firstName><lastName>Lund</lastName>"
        "<emailAddress>ida@example.com</emailAddress></inquirer>"
        "<reservation><numberOfAdults>2</numberOfAdults><reservationDates>"
        f"<beginDate>{check_in}</beginDate><endDate>{check_out}</endDate>"
        "</reservationDates></reservation></bookingRequestDetails></bookingRequest>"
    )
    async with httpx.AsyncClient(timeout=10, auth=(v.username, PASSWORD)) as http:
        r = await http.post(
            f"{v.base}/booking", content=body, headers={"Content-Type": "application/xml"}
        )
        assert r.status_code == 200, r.text
        assert "<reservationStatus>UNCONFIRMED</reservationStatus>" in r.text
        external = r.text.split("<externalId>")[1].split("<")[0]
        booking = (await api.get(f"/api/v1/bookings/{external}", headers=e.agency.auth())).json()
        assert booking["status"] == "requested"
        assert booking["source"] == "fewo_direkt"
        r = await api.post(
            f"/api/v1/bookings/{external}/confirm",
            json={},
            headers={**e.agency.auth(), "Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status_code == 200, r.text
        updates = await http.get(f"{v.base}/booking-updates")
        assert f"<externalId>{external}</externalId>" in updates.text
        assert "<reservationStatus>CONFIRMED</reservationStatus>" in updates.text
        # A bad `since` is a 422, not a 500.
        r = await http.get(f"{v.base}/booking-updates", params={"since": "2030-01-01T00:00:00"})
        assert r.status_code == 422
