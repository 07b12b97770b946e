"""Small API helpers for the iCal sync tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from tests.factories import Agency, property_body, signup


@dataclass
class Host:
    """An agency (its admin's headers), one property and one guest."""

    agency_id: str
    headers: dict[str, str]
    property_id: str
    guest_id: str


async def host(client: httpx.AsyncClient, name: str = "Host") -> Host:
    agency_id, token, _ = await signup(client, name)
    h = {"Authorization": f"Bearer {token}"}
    r = await client.post("/api/v1/properties", json=property_body(), headers=h)
    assert r.status_code == 201, r.text
    prop = r.json()["id"]
    r = await client.post(
        "/api/v1/guests",
        json={"email": f"g-{uuid.uuid4().hex[:6]}@example.com", "last_name": "Gast"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    return Host(agency_id, h, prop, r.json()["id"])


async def book(
    client: httpx.AsyncClient, h: Host, check_in: str, check_out: str, **extra: Any
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/bookings",
        json={
            "property_id": h.property_id,
            "check_in": check_in,
            "check_out": check_out,
            "guest_id": h.guest_id,
            **extra,
        },
        headers=h.headers,
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def block(client: httpx.AsyncClient, h: Host, start: str, end: str) -> str:
    r = await client.post(
        "/api/v1/blocks",
        json={"property_id": h.property_id, "start": start, "end": end, "kind": "owner"},
        headers=h.headers,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def occupied(client: httpx.AsyncClient, h: Host, start: str, end: str) -> set[date]:
    """Nights the availability calendar shows as taken (booked, hold or blocked)."""
    r = await client.get(
        f"/api/v1/properties/{h.property_id}/availability",
        params={"start": start, "end": end},
        headers=h.headers,
    )
    assert r.status_code == 200, r.text
    return {date.fromisoformat(d["date"]) for d in r.json()["days"] if d["status"] != "free"}


async def export_url(client: httpx.AsyncClient, h: Host, **body: Any) -> str:
    r = await client.post(
        f"/api/v1/properties/{h.property_id}/ical-exports", json=body, headers=h.headers
    )
    assert r.status_code == 201, r.text
    url: str = r.json()["url"]
    return httpx.URL(url).path


async def add_feed(
    client: httpx.AsyncClient, h: Host, url: str, source: str = "airbnb"
) -> dict[str, Any]:
    r = await client.post(
        f"/api/v1/properties/{h.property_id}/ical-feeds",
        json={"url": url, "name": f"{source} listing", "source": source},
        headers=h.headers,
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def sync_now(client: httpx.AsyncClient, h: Host, feed_id: str) -> dict[str, Any]:
    r = await client.post(f"/api/v1/ical-feeds/{feed_id}/sync", headers=h.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def open_alerts(client: httpx.AsyncClient, h: Host) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/alerts", headers=h.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def nights(*ranges: tuple[str, str]) -> set[date]:
    out: set[date] = set()
    for start, end in ranges:
        d = date.fromisoformat(start)
        while d < date.fromisoformat(end):
            out.add(d)
            d = date.fromordinal(d.toordinal() + 1)
    return out


async def ical_objects(client: httpx.AsyncClient, a: Agency) -> None:
    """An export, a feed and an alert for an agency built by ``tests.factories.full_agency``.
    The feed's host cannot resolve (``.invalid`` never does; a loopback address would now be
    refused at creation), so its sync fails and raises an alert without reaching anything."""
    h = a.auth()
    r = await client.post(f"/api/v1/properties/{a.property_id}/ical-exports", json={}, headers=h)
    assert r.status_code == 201, r.text
    a.ical_export_id = r.json()["id"]
    r = await client.post(
        f"/api/v1/properties/{a.property_id}/ical-feeds",
        json={"url": "http://calendar.invalid/cal.ics", "name": "Nowhere", "source": "other"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    a.ical_feed_id = r.json()["id"]
    r = await client.post(f"/api/v1/ical-feeds/{a.ical_feed_id}/sync", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["held"] == "fetch_failed"
    r = await client.get("/api/v1/alerts", headers=h)
    a.alert_id = r.json()["items"][0]["id"]
