"""Helpers for the Channel Manager tests: an agency with a priced property, a connected and
mapped Airbnb account, and comparisons of the simulator's calendar with Core's ARI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx

from tests.factories import Agency, full_agency

HOST_CODE = "code-host-1001"


@dataclass
class Connected:
    agency: Agency
    connection_id: str
    mapping_ids: dict[str, str]


async def priced_agency(client: httpx.AsyncClient, name: str = "Channel") -> Agency:
    a = await full_agency(client, name)
    r = await client.post(
        f"/api/v1/properties/{a.property_id}/rate-plans",
        json={"name": "Standard", "base_price_minor": 12000, "default_min_stay": 2},
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    a.rate_plan_id = r.json()["id"]
    return a


async def connect(
    client: httpx.AsyncClient, a: Agency, listings: tuple[str, ...] = ("50001",)
) -> Connected:
    r = await client.post(
        "/api/v1/channel-connections",
        json={"platform": "airbnb", "authorization_code": HOST_CODE},
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    connection_id = r.json()["id"]
    r = await client.get(
        f"/api/v1/channel-connections/{connection_id}/remote-listings", headers=a.auth()
    )
    assert r.status_code == 200, r.text
    mapping_ids = {}
    for listing in listings:
        r = await client.post(
            f"/api/v1/channel-connections/{connection_id}/mappings",
            json={"remote_listing_id": listing, "property_id": a.property_id},
            headers=a.auth(),
        )
        assert r.status_code == 201, r.text
        mapping_ids[listing] = r.json()["id"]
    return Connected(a, connection_id, mapping_ids)


def window(today: date | None = None, days: int = 365) -> tuple[date, date]:
    start = today or date.today()
    return start, start + timedelta(days=days)


async def core_ari(
    client: httpx.AsyncClient, a: Agency, start: date, end: date
) -> list[dict[str, Any]]:
    days: list[dict[str, Any]] = []
    day = start
    while day < end:
        chunk_end = min(end, day + timedelta(days=180))
        r = await client.get(
            f"/api/v1/properties/{a.property_id}/ari",
            params={"start": day.isoformat(), "end": chunk_end.isoformat()},
            headers=a.auth(),
        )
        assert r.status_code == 200, r.text
        days += r.json()["rate_plans"][0]["days"]
        day = chunk_end
    return days


async def sim_days(
    sandbox: httpx.AsyncClient, listing: str, start: date, end: date
) -> dict[str, Any]:
    r = await sandbox.get(
        f"/control/airbnb/listings/{listing}/days",
        params={"start": start.isoformat(), "end": (end - timedelta(days=1)).isoformat()},
    )
    r.raise_for_status()
    return {d["date"]: d for d in r.json()}


def mismatches(core: list[dict[str, Any]], sim: dict[str, Any]) -> list[str]:
    """Nights where the simulator does not show Core's ARI (price, availability, min/max
    nights, closed to arrival/departure)."""
    out = []
    for d in core:
        s = sim.get(d["date"])
        if s is None:
            out.append(f"{d['date']}: missing")
            continue
        want = (
            d["available"],
            Decimal(d["price"]["amount"]),
            d["min_stay"],
            d["max_stay"],
            d["closed_to_arrival"],
            d["closed_to_departure"],
        )
        have = (
            s["available"],
            Decimal(s["price"]),
            s["min_stay"],
            s["max_stay"],
            s["closed_to_arrival"],
            s["closed_to_departure"],
        )
        if want != have:
            out.append(f"{d['date']}: core {want} != airbnb {have}")
    return out
