"""Every write path that can take nights races for the same window at once: creates, date
changes of other bookings into it, moves from other properties, confirmations of requests and
block creations. Exactly one wins; the rest are 409s naming the clash; nothing is a 5xx.
(Real PostgreSQL, real commits.)"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.factories import Agency, full_agency, property_body
from tests.services import plain

D = date(2035, 8, 1)
PER_KIND = 10


def day(n: int) -> str:
    return (D + timedelta(days=n)).isoformat()


WINDOW = (day(20), day(24))


@pytest.fixture
async def agency(client: httpx.AsyncClient) -> Agency:
    return await full_agency(client)


async def _create(
    client: httpx.AsyncClient, a: Agency, property_id: str, start: str, end: str, **extra: Any
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/bookings",
        json={
            "property_id": property_id,
            "check_in": start,
            "check_out": end,
            "guest_id": a.guest_id,
            **extra,
        },
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


@dataclass
class Contenders:
    elsewhere: list[dict[str, Any]]  # on the property, outside the window: to change dates
    others: list[dict[str, Any]]  # in the window on other properties: to move here
    requests: list[dict[str, Any]]  # requests to book the window (hold no nights): to confirm


@pytest.fixture
async def contenders(client: httpx.AsyncClient, agency: Agency) -> Contenders:
    a, p = agency, agency.property_id
    start, end = WINDOW
    elsewhere = [
        await _create(client, a, p, day(40 + 3 * i), day(41 + 3 * i)) for i in range(PER_KIND)
    ]
    others = []
    for _ in range(PER_KIND):
        r = await client.post("/api/v1/properties", json=property_body(), headers=a.auth())
        assert r.status_code == 201, r.text
        others.append(await _create(client, a, r.json()["id"], start, end))
    requests = [
        await _create(client, a, p, start, end, status="requested") for _ in range(PER_KIND)
    ]
    await _warm_up(client, a, others[0]["property_id"])
    return Contenders(elsewhere, others, requests)


async def _warm_up(client: httpx.AsyncClient, a: Agency, other_property: str) -> None:
    """Take every path of the race once, away from its window, in the set-up: the first run of
    each query compiles it, which should not count as the test blocking its event loop."""
    p, h = a.owned_property_id, a.auth()
    booked = await _create(client, a, p, day(100), day(102))
    r = await client.patch(
        f"/api/v1/bookings/{booked['id']}",
        json={"version": booked["version"], "check_in": day(103), "check_out": day(105)},
        headers=h,
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"/api/v1/bookings/{booked['id']}",
        json={"version": r.json()["version"], "property_id": other_property},
        headers=h,
    )
    assert r.status_code == 200, r.text
    request = await _create(client, a, p, day(110), day(112), status="requested")
    r = await client.post(f"/api/v1/bookings/{request['id']}/confirm", headers=h)
    assert r.status_code == 200, r.text
    body = {"property_id": p, "start": day(110), "end": day(111), "kind": "maintenance"}
    r = await client.post("/api/v1/blocks", json=body, headers=h)
    assert r.status_code == 409, r.text
    r = await client.post(
        "/api/v1/bookings",
        json={
            "property_id": p,
            "check_in": day(110),
            "check_out": day(111),
            "guest_id": a.guest_id,
        },
        headers=h,
    )
    assert r.status_code == 409, r.text


async def test_a_mix_of_concurrent_writes_into_one_window_lets_exactly_one_through(
    client: httpx.AsyncClient, agency: Agency, contenders: Contenders, database_url: str
) -> None:
    a, p = agency, agency.property_id
    start, end = WINDOW
    elsewhere, others, requests = contenders.elsewhere, contenders.others, contenders.requests
    ops: list[tuple[str, Awaitable[httpx.Response]]] = []
    for i in range(PER_KIND):
        ops.append(
            (
                "create",
                client.post(
                    "/api/v1/bookings",
                    json={
                        "property_id": p,
                        "check_in": start,
                        "check_out": end,
                        "guest_id": a.guest_id,
                    },
                    headers=a.auth(),
                ),
            )
        )
        b = elsewhere[i]
        ops.append(
            (
                "change dates",
                client.patch(
                    f"/api/v1/bookings/{b['id']}",
                    json={"version": b["version"], "check_in": start, "check_out": end},
                    headers=a.auth(),
                ),
            )
        )
        o = others[i]
        ops.append(
            (
                "move",
                client.patch(
                    f"/api/v1/bookings/{o['id']}",
                    json={"version": o["version"], "property_id": p},
                    headers=a.auth(),
                ),
            )
        )
        ops.append(
            (
                "confirm",
                client.post(f"/api/v1/bookings/{requests[i]['id']}/confirm", headers=a.auth()),
            )
        )
        ops.append(
            (
                "block",
                client.post(
                    "/api/v1/blocks",
                    json={"property_id": p, "start": start, "end": end, "kind": "maintenance"},
                    headers=a.auth(),
                ),
            )
        )
    responses = await asyncio.gather(*(op for _, op in ops))
    outcomes = [(kind, r.status_code) for (kind, _), r in zip(ops, responses, strict=True)]

    assert not [o for o in outcomes if o[1] >= 500], outcomes
    winners = [o for o in outcomes if o[1] in (200, 201)]
    assert len(winners) == 1, outcomes
    losers = [r for r in responses if r.status_code == 409]
    assert len(losers) == len(ops) - 1, outcomes
    assert all(r.json()["conflict_type"] in ("booking", "block") for r in losers)

    # And the inventory agrees: one active range covers the window on this property.
    conn = await asyncpg.connect(plain(database_url))
    try:
        taken = await conn.fetchval(
            "SELECT count(*) FROM occupied_ranges WHERE property_id = $1::uuid "
            "AND status IN ('hold', 'confirmed', 'checked_in', 'checked_out', 'block') "
            'AND start < $3::date AND "end" > $2::date',
            p,
            date.fromisoformat(start),
            date.fromisoformat(end),
        )
    finally:
        await conn.close()
    assert taken == 1
