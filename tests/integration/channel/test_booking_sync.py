"""Booking.com over real HTTP with the simulator: connect a hotel, map a room rate, full sync
(month batches, the simulator equals Core for 365 nights), tokens exchanged once and again after
the platform refuses an expired one, a partly refused message retried only where it failed,
and reservations pulled, applied with Booking.com's per-night prices, then acknowledged."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from pms.channel import pull
from pms.channel.adapters import booking as booking_adapter
from pms.channel.adapters.base import Batch, NightValues, PartlyApplied, Run
from pms.channel.adapters.booking import BookingAdapter
from pms.redis_client import get_redis
from pms.settings import get_settings
from tests.integration.channel.helpers import (
    connect_account,
    core_ari,
    map_listing,
    mismatches,
    priced_agency,
    window,
)
from tests.sandbox.conftest import Served
from tests.services import Worker, eventually

HOTEL, ROOM, RATE = "9000001", "900000101", "55500001"
LISTING = f"{HOTEL}/{ROOM}/{RATE}"


async def booking_days(
    sandbox: httpx.AsyncClient, start: date, end: date, rate: str = RATE
) -> dict[str, Any]:
    r = await sandbox.get(
        f"/control/booking/listings/{HOTEL}/days",
        params={"start": start.isoformat(), "end": (end - timedelta(days=1)).isoformat()},
    )
    r.raise_for_status()
    return {d["date"]: d for d in r.json() if d["room_id"] == ROOM and d["rate_plan_id"] == rate}


async def reservations(sandbox: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    return {x["id"]: x for x in (await sandbox.get("/control/booking/reservations")).json()}


async def test_booking_com_end_to_end(
    api: httpx.AsyncClient, sandbox_server: Served, relay: Worker, worker: Worker
) -> None:
    client = api
    sandbox = httpx.AsyncClient(base_url=sandbox_server.url, timeout=10)
    (await sandbox.post("/control/reset")).raise_for_status()
    a = await priced_agency(client)

    # Booking.com connects with the hotel our machine account may manage; never a code.
    r = await client.post(
        "/api/v1/channel-connections",
        json={"platform": "booking_com", "authorization_code": "x"},
        headers=a.auth(),
    )
    assert r.status_code == 422, r.text
    r = await client.post(
        "/api/v1/channel-connections",
        json={"platform": "booking_com", "credentials": {"hotel_id": "9000099"}},
        headers=a.auth(),
    )
    assert r.status_code in (409, 422, 502), r.text  # another provider's hotel: refused
    assert "secret" not in r.text
    body = {"platform": "booking_com", "credentials": {"hotel_id": HOTEL}}
    connection_id, listings = await connect_account(client, a, body)
    ids = {x["id"] for x in listings}
    assert LISTING in ids, ids
    mapping_id = await map_listing(client, a, connection_id, LISTING)
    start, end = window()

    async def in_step() -> bool:
        core = await core_ari(client, a, start, end)
        return not mismatches(core, await booking_days(sandbox, start, end))

    await eventually(in_step, 90, "Booking.com to equal Core's ARI for 365 nights")

    async def pushed() -> list[dict[str, Any]]:
        r = await client.get(
            f"/api/v1/channel-connections/{connection_id}/sync-log", headers=a.auth()
        )
        return [e for e in r.json() if e["mapping_id"] == mapping_id and e["outcome"] == "pushed"]

    pushes = await eventually(pushed, 30, "the full sync in the sync log")
    # One call per month (365 nights touch at most 13 months), each a request pair: the
    # month's availability and its prices; the log counts both.
    calls = sum(e["calls"] for e in pushes)
    assert 0 < calls <= 13, pushes
    assert sum(e["details"]["requests"] for e in pushes) == 2 * calls, pushes

    # A guest books on Booking.com at the prices we loaded, one night priced differently.
    arrival = start + timedelta(days=30)
    r = await client.put(
        f"/api/v1/rate-plans/{a.rate_plan_id}/days",
        json={
            "ranges": [
                {
                    "start": (arrival + timedelta(days=1)).isoformat(),
                    "end": (arrival + timedelta(days=2)).isoformat(),
                    "price_minor": 15555,
                }
            ]
        },
        headers=a.auth(),
    )
    assert r.status_code == 200, r.text

    async def priced() -> bool:
        days = await booking_days(sandbox, arrival, arrival + timedelta(days=3))
        return days[(arrival + timedelta(days=1)).isoformat()]["price"] == "155.55"

    await eventually(priced, 30, "the new price on Booking.com")
    # A price alone: one call, the night's state as a request pair again (the batch is the
    # night's changed state, sent as its availability and its price messages).
    seen = {e["id"] for e in pushes}

    async def price_push() -> list[dict[str, Any]]:
        return [e for e in await pushed() if e["id"] not in seen]

    (change,) = await eventually(price_push, 30, "the price change in the sync log")
    assert (change["calls"], change["details"]["requests"]) == (1, 2), change
    r = await sandbox.post(
        "/control/booking/bookings",
        json={
            "listing_id": HOTEL,
            "room_id": ROOM,
            "rate_plan_id": RATE,
            "arrival": arrival.isoformat(),
            "departure": (arrival + timedelta(days=3)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    res_id = r.json()["id"]
    report = await pull.poll(uuid.UUID(connection_id), get_settings())
    assert (report.received, report.applied, report.acknowledged) == (1, 1, 1), report
    assert (await reservations(sandbox))[res_id]["queued_in"] == [], "acknowledged"

    async def booked() -> dict[str, Any] | None:
        r = await client.get(
            "/api/v1/bookings", params={"limit": 200, "source": "booking_com"}, headers=a.auth()
        )
        found = [b for b in r.json()["items"] if b["channel_booking_id"] == res_id]
        return found[0] if found else None

    b = await booked()
    assert b is not None
    assert (b["status"], b["check_in"], b["check_out"]) == (
        "confirmed",
        arrival.isoformat(),
        (arrival + timedelta(days=3)).isoformat(),
    )
    assert b["quote"]["total"]["amount_minor"] == 12000 + 15555 + 12000
    assert list(b["quote"]["nights_minor"].values()) == [12000, 15555, 12000]

    # Pulling again: nothing waits (the ack held); the same message again is no duplicate.
    again = await pull.poll(uuid.UUID(connection_id), get_settings())
    assert again.received == 0, again

    # The guest changes the stay, then cancels: both through the modify queue.
    r = await sandbox.patch(
        f"/control/booking/bookings/{res_id}",
        json={"departure": (arrival + timedelta(days=4)).isoformat(), "adults": 3},
    )
    assert r.status_code == 200, r.text
    await get_redis().delete(f"pms:channel:poll-due:{connection_id}")
    report = await pull.poll(uuid.UUID(connection_id), get_settings())
    assert report.acknowledged == 1, report
    b = await booked()
    assert b is not None
    assert (b["check_out"], b["adults"]) == ((arrival + timedelta(days=4)).isoformat(), 3)
    assert b["quote"]["total"]["amount_minor"] == 12000 + 15555 + 12000 + 12000
    (await sandbox.post(f"/control/booking/bookings/{res_id}/cancel")).raise_for_status()
    report = await pull.poll(uuid.UUID(connection_id), get_settings())
    assert report.acknowledged == 1, report
    b = await booked()
    assert b is not None
    assert b["status"] == "cancelled"
    assert (await reservations(sandbox))[res_id]["queued_in"] == []

    # The pulls are in the sync log.
    r = await client.get(f"/api/v1/channel-connections/{connection_id}/sync-log", headers=a.auth())
    pulls = [e for e in r.json() if e["kind"] == "pull"]
    assert len(pulls) >= 3, pulls
    assert all(e["outcome"] == "ok" for e in pulls), pulls
    await sandbox.aclose()


async def test_tokens_are_kept_and_a_partly_refused_message_names_its_nights(
    settings: object, sandbox_server: Served
) -> None:
    sandbox = httpx.AsyncClient(base_url=sandbox_server.url, timeout=10)
    (await sandbox.post("/control/reset")).raise_for_status()
    adapter = BookingAdapter(get_settings())
    booking_adapter._tokens.clear()
    counter = f"pms:channel:booking_com:exchanges:{get_settings().booking_client_id}"
    before = int(await get_redis().get(counter) or 0)
    start = window()[0] + timedelta(days=10)
    good = NightValues(True, 9900, 2, None, False, False)
    bad = NightValues(True, 9900, 1000, None, False, False)  # min stay beyond what OTA takes
    runs = (
        Run(start, start + timedelta(days=3), good),
        Run(start + timedelta(days=3), start + timedelta(days=5), bad),
        Run(start + timedelta(days=5), start + timedelta(days=7), good),
    )
    credentials = {"hotel_id": HOTEL}
    with pytest.raises(PartlyApplied) as caught:
        await adapter.push_ari(credentials, LISTING, "EUR", Batch(runs))
    assert caught.value.failed.runs == (runs[1],)
    assert caught.value.applied.runs == (runs[0], runs[2])
    assert not caught.value.failed_retryable, "a refused value is not retried as it is"
    assert "INVALID_LENGTH_OF_STAY" in str(caught.value)
    days = await booking_days(sandbox, start, start + timedelta(days=7))
    assert [d["min_stay"] for d in days.values()] == [2, 2, 2, None, None, 2, 2]
    # Past nights are never sent (Booking.com refuses them): only tonight onward arrives.
    past = Run(start - timedelta(days=40), start - timedelta(days=9), good)
    await adapter.push_ari(credentials, LISTING, "EUR", Batch((past,)))

    # One exchange so far, in this process and in Redis for the others.
    for _ in range(3):
        await adapter.push_ari(credentials, LISTING, "EUR", Batch(runs[:1]))
    assert int(await get_redis().get(counter) or 0) - before == 1
    booking_adapter._tokens.clear()  # another worker: it finds the token in Redis
    await adapter.push_ari(credentials, LISTING, "EUR", Batch(runs[:1]))
    assert int(await get_redis().get(counter) or 0) - before == 1
    # The platform's clock passes the token's hour: the refused token is forgotten and the same
    # call is made again with a new one (one exchange more), so the caller sees no 401.
    (await sandbox.post("/control/clock/advance", json={"seconds": 3700})).raise_for_status()
    await adapter.push_ari(credentials, LISTING, "EUR", Batch(runs[:1]))
    assert int(await get_redis().get(counter) or 0) - before == 2
    await adapter.push_ari(credentials, LISTING, "EUR", Batch(runs[:1]))
    assert int(await get_redis().get(counter) or 0) - before == 2
    await sandbox.aclose()
