"""End to end over HTTP with the Airbnb simulator: connect with an OAuth code, map, full sync;
the simulator's calendar then equals Core's ARI for 365 days; a one-night price change reaches
it; a guest's booking on Airbnb lands in Core and closes the nights on the other listing."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx

from pms import db
from pms.channel.engine import dirty, flush
from pms.settings import get_settings
from tests.integration.channel.helpers import (
    connect,
    core_ari,
    mismatches,
    priced_agency,
    sim_days,
    window,
)
from tests.sandbox.conftest import Served
from tests.services import Worker, eventually


async def test_connect_map_full_sync_price_change_and_a_guest_booking(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox_server: Served,
    relay: Worker,
    worker: Worker,
) -> None:
    client = api
    sandbox = httpx.AsyncClient(base_url=sandbox_server.url, timeout=10)
    (await sandbox.post("/control/reset")).raise_for_status()
    (
        await sandbox.put(
            "/control/airbnb/webhook",
            json={"url": f"{api_url}/api/v1/channels/airbnb/webhooks", "backoff_base_s": 0.2},
        )
    ).raise_for_status()
    a = await priced_agency(client)
    c = await connect(client, a, ("50001", "50002"))
    start, end = window()

    async def in_step(listing: str) -> list[str] | bool:
        core = await core_ari(client, a, start, end)
        wrong = mismatches(core, await sim_days(sandbox, listing, start, end))
        return not wrong or False

    await eventually(lambda: in_step("50001"), 60, "Airbnb 50001 to equal Core's ARI")
    await eventually(lambda: in_step("50002"), 60, "Airbnb 50002 to equal Core's ARI")

    # Call economy: the full sync of 365 nights took at most ceil(365 / 100) calls per listing,
    # and pushing the same state again takes none. (The flush records its round after the
    # platform answered: the log may trail the simulator by a moment.)
    async def logged() -> list[dict[str, object]]:
        r = await client.get(
            f"/api/v1/channel-connections/{c.connection_id}/sync-log", headers=a.auth()
        )
        found = [e for e in r.json() if e["mapping_id"] == c.mapping_ids["50001"]]
        return found if any(e["calls"] for e in found) else []

    pushes = await eventually(logged, 30, "the full sync's pushes in the sync log")
    assert 0 < sum(int(str(e["calls"])) for e in pushes) <= 4, pushes
    # (The worker's flush may still be in its rounds and take the range first: then ours finds
    # nothing, "idle", and the sync log shows what that one did.)
    mark = max(e["id"] for e in pushes)
    async with db.transaction(uuid.UUID(a.id)) as s:
        await dirty.mark(s, uuid.UUID(a.id), [uuid.UUID(c.mapping_ids["50001"])], start, end)
    again = await flush.flush(uuid.UUID(c.mapping_ids["50001"]), get_settings())
    assert again.calls == 0, again
    assert again.outcome in ("unchanged", "idle"), again
    r = await client.get(
        f"/api/v1/channel-connections/{c.connection_id}/sync-log", headers=a.auth()
    )
    after = [
        (e["outcome"], e["calls"])
        for e in r.json()
        if e["mapping_id"] == c.mapping_ids["50001"] and e["kind"] == "push" and e["id"] > mark
    ]
    assert after == [("unchanged", 0)], after

    # A one-night price change reaches the simulator.
    night = start + timedelta(days=40)
    r = await client.put(
        f"/api/v1/rate-plans/{a.rate_plan_id}/days",
        json={
            "ranges": [
                {
                    "start": night.isoformat(),
                    "end": (night + timedelta(days=1)).isoformat(),
                    "price_minor": 23456,
                }
            ]
        },
        headers=a.auth(),
    )
    assert r.status_code == 200, r.text

    async def priced() -> bool:
        days = await sim_days(sandbox, "50001", night, night + timedelta(days=1))
        return days[night.isoformat()]["price"] == "234.56"

    await eventually(priced, 30, "the new price on Airbnb")

    # A guest books on Airbnb: the booking is in Core with Airbnb's price, and the nights
    # close on the other listing.
    arrival = start + timedelta(days=20)
    r = await sandbox.post(
        "/control/airbnb/bookings",
        json={
            "listing_id": "50001",
            "arrival": arrival.isoformat(),
            "departure": (arrival + timedelta(days=3)).isoformat(),
            "price_per_night": "99.50",
        },
    )
    assert r.status_code == 201, r.text
    code = r.json()["id"]

    async def booked() -> dict[str, object] | None:
        r = await client.get("/api/v1/bookings", params={"limit": 200}, headers=a.auth())
        found = [b for b in r.json()["items"] if b["channel_booking_id"] == code]
        return found[0] if found else None

    booking = await eventually(booked, 30, "the Airbnb booking in Core")
    assert booking["status"] == "confirmed"
    assert booking["source"] == "airbnb"
    assert booking["quote"]["total"]["amount_minor"] == 29850

    async def closed_on_second() -> bool:
        days = await sim_days(sandbox, "50002", arrival, arrival + timedelta(days=3))
        return all(not d["available"] for d in days.values())

    await eventually(closed_on_second, 30, "the nights closed on listing 50002")

    # The iCal export closes them too.
    r = await client.post(
        f"/api/v1/properties/{a.property_id}/ical-exports", json={}, headers=a.auth()
    )
    feed = await client.get(r.json()["url"].replace("http://127.0.0.1:8000", api_url))
    assert f"DTSTART;VALUE=DATE:{arrival:%Y%m%d}" in feed.text

    # The guest cancels on Airbnb: Core cancels, the other listing opens again.
    (await sandbox.post(f"/control/airbnb/bookings/{code}/cancel")).raise_for_status()

    async def cancelled() -> bool:
        found = await booked()
        return bool(found and found["status"] == "cancelled")

    await eventually(cancelled, 30, "the cancellation in Core")

    async def open_on_second() -> bool:
        days = await sim_days(sandbox, "50002", arrival, arrival + timedelta(days=3))
        return all(d["available"] for d in days.values())

    await eventually(open_on_second, 30, "the nights open again on 50002")
    r = await client.get(
        f"/api/v1/channel-connections/{c.connection_id}/sync-log", headers=a.auth()
    )
    assert r.status_code == 200
    assert any(e["outcome"] == "pushed" for e in r.json())
    _ = date
