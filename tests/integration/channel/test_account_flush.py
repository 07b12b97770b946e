"""One flush per platform account: an agency's Booking.com hotels (our machine account) and
Expedia hotels (an EQC account) are a connection each, yet one flush carries the dirty listings
of all of them in one round, each pushed with its own connection's credentials and recorded in
its own connection's sync log. Another agency's hotels on the same platform, the same machine
account even, are never carried with them; a paused hotel sits out while its neighbours go on."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from pms import db
from pms.channel.engine import flush
from pms.channel.engine.breaker import breaker_key
from pms.channel.engine.scope import one_per_account, scope_of
from pms.models.channel import ChannelDirty
from pms.redis_client import get_redis
from pms.settings import get_settings
from tests.integration.channel.helpers import priced_agency
from tests.sandbox.conftest import Served

CONTROL = {"booking_com": "booking", "expedia": "expedia"}


async def hotels(sandbox: httpx.AsyncClient, platform: str, n: int) -> list[dict[str, Any]]:
    """n new simulator hotels of one room rate, with the credentials a connection needs."""
    if platform == "booking_com":
        r = await sandbox.post("/control/booking/hotels", json={"count": n})
        r.raise_for_status()
        return [
            {"listing": x["listing_id"], "credentials": {"hotel_id": x["hotel_id"]}}
            for x in r.json()
        ]
    user = f"test-{uuid.uuid4().hex[:8]}"
    r = await sandbox.post("/control/expedia/hotels", json={"count": n, "username": user})
    r.raise_for_status()
    body = r.json()
    return [
        {
            "listing": x["listing_id"],
            "credentials": {**body["credentials"], "hotel_id": x["hotel_id"]},
        }
        for x in body["hotels"]
    ]


async def connect_hotels(
    api: httpx.AsyncClient, sandbox: httpx.AsyncClient, platform: str, n: int, name: str
) -> tuple[dict[str, str], list[str], list[str], list[str]]:
    """An agency with n properties, each mapped to a hotel of its own (a connection each).
    Returns its headers, the connection ids, the mapping ids and the remote listings."""
    a = await priced_agency(api, name)
    h = a.auth()
    props = [a.property_id]
    for i in range(n - 1):
        r = await api.post(
            "/api/v1/properties",
            json={
                "name": f"{name} {i}",
                "timezone": "Europe/Berlin",
                "currency": "EUR",
                "max_guests": 4,
            },
            headers=h,
        )
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        r = await api.post(
            f"/api/v1/properties/{pid}/rate-plans",
            json={"name": "Standard", "base_price_minor": 12000},
            headers=h,
        )
        assert r.status_code == 201, r.text
        props.append(pid)
    connections, mappings, listings = [], [], []
    for prop, hotel in zip(props, await hotels(sandbox, platform, n), strict=True):
        r = await api.post(
            "/api/v1/channel-connections",
            json={"platform": platform, "credentials": hotel["credentials"]},
            headers=h,
        )
        assert r.status_code == 201, r.text
        connections.append(r.json()["id"])
        r = await api.post(
            f"/api/v1/channel-connections/{connections[-1]}/mappings",
            json={"remote_listing_id": hotel["listing"], "property_id": prop},
            headers=h,
        )
        assert r.status_code == 201, r.text
        mappings.append(r.json()["id"])
        listings.append(hotel["listing"])
    return h, connections, mappings, listings


async def pushes(
    api: httpx.AsyncClient, h: dict[str, str], connection_id: str
) -> list[dict[str, Any]]:
    r = await api.get(f"/api/v1/channel-connections/{connection_id}/sync-log", headers=h)
    assert r.status_code == 200, r.text
    return [e for e in r.json() if e["kind"] == "push"]


async def dirty_mappings() -> set[str]:
    async with db.transaction(None) as s:
        await db.system_access(s)
        return {str(m) for m in (await s.execute(select(ChannelDirty.mapping_id))).scalars()}


async def priced_listings(sandbox: httpx.AsyncClient, platform: str) -> set[str]:
    r = await sandbox.get(f"/control/{CONTROL[platform]}/price-log")
    r.raise_for_status()
    return {e["listing_id"] for e in r.json()}


@pytest.mark.parametrize("platform", ["booking_com", "expedia"])
async def test_one_flush_carries_every_hotel_of_the_account_and_no_other_agency(
    api: httpx.AsyncClient, sandbox_server: Served, platform: str
) -> None:
    # No relay and no worker: the mappings' full syncs wait as dirty ranges, flushed here.
    sandbox = httpx.AsyncClient(base_url=sandbox_server.url, timeout=10)
    (await sandbox.post("/control/reset")).raise_for_status()
    ha, conn_a, maps_a, listings_a = await connect_hotels(api, sandbox, platform, 3, "Account A")
    hb, conn_b, maps_b, listings_b = await connect_hotels(api, sandbox, platform, 1, "Account B")
    assert set(maps_a) | set(maps_b) <= await dirty_mappings()
    # A paused hotel of agency A sits out; its neighbours are not held up by it.
    r = await api.patch(
        f"/api/v1/channel-connections/{conn_a[2]}", json={"status": "paused"}, headers=ha
    )
    assert r.status_code == 200, r.text

    report = await flush.flush_account(uuid.UUID(conn_a[0]), get_settings())
    assert (report.outcome, report.connections, report.listings) == ("pushed", 2, 2), report
    assert not report.more, report
    rounds = set()
    for connection_id, mapping_id in zip(conn_a[:2], maps_a[:2], strict=True):
        log = await pushes(api, ha, connection_id)
        assert [(e["mapping_id"], e["outcome"]) for e in log] == [(mapping_id, "pushed")], log
        rounds.add(log[0]["details"]["round"])
    assert len(rounds) == 1, "both hotels were pushed by one round"
    assert await priced_listings(sandbox, platform) == set(listings_a[:2])
    left = await dirty_mappings()
    assert maps_a[2] in left, "the paused hotel keeps its range for when it resumes"
    assert maps_b[0] in left, "another agency's hotel is never carried"
    assert await pushes(api, hb, conn_b[0]) == []
    assert await pushes(api, ha, conn_a[2]) == []

    # Agency B's own flush carries its hotel only, in a round of its own.
    report = await flush.flush_account(uuid.UUID(conn_b[0]), get_settings())
    assert (report.outcome, report.connections, report.listings) == ("pushed", 1, 1), report
    log_b = await pushes(api, hb, conn_b[0])
    assert [e["outcome"] for e in log_b] == ["pushed"], log_b
    assert log_b[0]["details"]["round"] not in rounds
    assert await priced_listings(sandbox, platform) == set(listings_a[:2]) | set(listings_b)
    # Resumed: A's next flush, started from any of its hotels, takes the paused one's range.
    r = await api.patch(
        f"/api/v1/channel-connections/{conn_a[2]}", json={"status": "active"}, headers=ha
    )
    assert r.status_code == 200, r.text
    report = await flush.flush_account(uuid.UUID(conn_a[1]), get_settings())
    assert (report.outcome, report.connections) == ("pushed", 1), report
    assert maps_a[2] not in await dirty_mappings()
    await sandbox.aclose()


def test_one_flush_task_per_account_and_never_across_agencies() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    hotels_a = [(uuid.uuid4(), "booking_com", a) for _ in range(3)]
    hotel_b = (uuid.uuid4(), "booking_com", b)
    eqc_a = [(uuid.uuid4(), "expedia", a) for _ in range(2)]
    hosts = [(uuid.uuid4(), "airbnb", a) for _ in range(2)]
    chosen = one_per_account([*hotels_a, hotel_b, *eqc_a, *hosts])
    assert len(chosen) == 1 + 1 + 1 + 2, chosen
    assert hotel_b in chosen
    assert set(hosts) <= set(chosen)
    assert sum(c in hotels_a for c in chosen) == 1
    assert sum(c in eqc_a for c in chosen) == 1
    # The keys: an agency's hotels share one; an Airbnb host is its own account, as before.
    keys = {scope_of(p, ag, c).key for c, p, ag in [*hotels_a, hotel_b]}
    assert keys == {f"booking_com:{a}", f"booking_com:{b}"}
    assert scope_of("airbnb", a, hosts[0][0]).key == str(hosts[0][0])


async def test_a_hotel_with_an_open_circuit_sits_out_quietly_while_its_neighbours_go_on(
    api: httpx.AsyncClient, sandbox_server: Served
) -> None:
    sandbox = httpx.AsyncClient(base_url=sandbox_server.url, timeout=10)
    (await sandbox.post("/control/reset")).raise_for_status()
    h, conns, maps, listings = await connect_hotels(api, sandbox, "booking_com", 2, "Breaker")
    # Hotel 1's circuit opened earlier (its own failures): it is not tried, nor logged again.
    key = breaker_key(conns[1])
    await get_redis().hset(key, mapping={"failures": "5", "open_until": str(time.time() + 60)})
    try:
        report = await flush.flush_account(uuid.UUID(conns[0]), get_settings())
        assert report.outcome == "circuit_open", report
        assert report.retry_in is not None, report
        assert 0 < report.retry_in <= 60, report
        assert not report.more, "the open hotel's range waits for the retry, not a loop"
        assert [e["outcome"] for e in await pushes(api, h, conns[0])] == ["pushed"]
        assert await pushes(api, h, conns[1]) == []
        assert await priced_listings(sandbox, "booking_com") == {listings[0]}
        assert maps[1] in await dirty_mappings()
    finally:
        await get_redis().delete(key)
    # Closed again: the retry carries it.
    report = await flush.flush_account(uuid.UUID(conns[0]), get_settings())
    assert (report.outcome, report.connections) == ("pushed", 1), report
    assert [e["outcome"] for e in await pushes(api, h, conns[1])] == ["pushed"]
    await sandbox.aclose()
