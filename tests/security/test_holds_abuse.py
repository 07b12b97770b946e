"""Finding 2: nobody locks a property's inventory with public holds. A hold keeps the
property's booking rules and the agency's public maximum stay, and each client address, guest
e-mail and property has only a few live holds at once (429 with Retry-After past that)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.factories import Agency, full_agency

TODAY = datetime.now(UTC).date()


def day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


@pytest.fixture
async def agency(client: httpx.AsyncClient) -> Agency:
    a = await full_agency(client, "Harbour Homes")
    r = await client.patch(
        f"/api/v1/properties/{a.property_id}", json={"is_listed": True}, headers=a.auth()
    )
    assert r.status_code == 200, r.text
    return a


async def _slug(client: httpx.AsyncClient, a: Agency) -> str:
    return str((await client.get("/api/v1/agency", headers=a.auth())).json()["slug"])


def _hold(a: Agency, start: int, end: int, **extra: Any) -> dict[str, Any]:
    return {"property_id": a.property_id, "check_in": day(start), "check_out": day(end), **extra}


def _from(app: Any, ip: str) -> httpx.AsyncClient:
    """A client whose requests come from ``ip`` (the TCP peer, not a header)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def many_ips(app: Any) -> AsyncIterator[list[httpx.AsyncClient]]:
    clients = [_from(app, f"198.51.100.{n}") for n in range(1, 11)]
    yield clients
    for c in clients:
        await c.aclose()


async def test_a_year_long_hold_is_refused_by_the_agency_maximum(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    s = await _slug(client, agency)
    r = await client.post(f"/api/v1/public/{s}/holds", json=_hold(agency, 30, 30 + 366))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["rule"] == "max_stay"
    assert r.json()["errors"][0]["limit"] == 60
    r = await client.post(f"/api/v1/public/{s}/holds", json=_hold(agency, 30, 91))
    assert r.status_code == 422, r.text
    r = await client.post(f"/api/v1/public/{s}/holds", json=_hold(agency, 30, 90))
    assert r.status_code == 201, r.text
    # The agency sets its own maximum.
    r = await client.patch(
        "/api/v1/agency", json={"public_max_stay_nights": 14}, headers=agency.auth()
    )
    assert r.status_code == 200, r.text
    assert r.json()["public_max_stay_nights"] == 14
    r = await client.post(f"/api/v1/public/{s}/holds", json=_hold(agency, 100, 115))
    assert r.status_code == 422, r.text
    assert "at most 14 nights" in r.json()["detail"]


async def test_a_hold_keeps_the_property_booking_rules(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    r = await client.post(
        f"/api/v1/properties/{agency.property_id}/rate-plans",
        json={
            "name": "Standard",
            "base_price_minor": 9000,
            "default_min_stay": 2,
            "default_max_stay": 7,
            "min_lead_days": 2,
            "max_advance_days": 300,
        },
        headers=agency.auth(),
    )
    assert r.status_code == 201, r.text
    plan = r.json()["id"]
    r = await client.put(
        f"/api/v1/rate-plans/{plan}/days",
        json={"ranges": [{"start": day(50), "end": day(51), "closed_to_arrival": True}]},
        headers=agency.auth(),
    )
    assert r.status_code == 200, r.text
    s = await _slug(client, agency)
    refused = {
        "max_stay": _hold(agency, 30, 40),
        "min_stay": _hold(agency, 30, 31),
        "booking_window": _hold(agency, 320, 323),
        "closed_to_arrival": _hold(agency, 50, 53),
    }
    for rule, body in refused.items():
        r = await client.post(f"/api/v1/public/{s}/holds", json=body)
        assert r.status_code == 422, (rule, r.text)
        assert rule in {e["rule"] for e in r.json()["errors"]}, (rule, r.text)
    r = await client.post(f"/api/v1/public/{s}/holds", json=_hold(agency, 30, 37))
    assert r.status_code == 201, r.text


async def test_live_holds_are_limited_per_address_with_retry_after(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    s = await _slug(client, agency)
    tokens = []
    for n in range(3):
        r = await client.post(
            f"/api/v1/public/{s}/holds", json=_hold(agency, 10 * n + 10, 10 * n + 12)
        )
        assert r.status_code == 201, r.text
        tokens.append(r.json()["hold_token"])
    r = await client.post(f"/api/v1/public/{s}/holds", json=_hold(agency, 60, 62))
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "/problems/too-many-holds"
    # The first hold lapses after the agency's hold time (15 minutes).
    assert 800 <= int(r.headers["retry-after"]) <= 900
    # A released hold stops counting at once.
    assert (await client.delete(f"/api/v1/public/{s}/holds/{tokens[0]}")).status_code == 204
    r = await client.post(f"/api/v1/public/{s}/holds", json=_hold(agency, 60, 62))
    assert r.status_code == 201, r.text


async def test_live_holds_are_limited_per_email_and_per_property(
    client: httpx.AsyncClient, agency: Agency, many_ips: list[httpx.AsyncClient]
) -> None:
    s = await _slug(client, agency)
    url = f"/api/v1/public/{s}/holds"
    email = "Mallory@Example.com"
    for n in range(3):
        r = await many_ips[n].post(url, json=_hold(agency, 10 * n + 10, 10 * n + 12, email=email))
        assert r.status_code == 201, r.text
    r = await many_ips[3].post(url, json=_hold(agency, 50, 52, email=email.lower()))
    assert r.status_code == 429, r.text
    assert "e-mail" in r.json()["detail"]
    assert int(r.headers["retry-after"]) >= 1
    # Other addresses without that e-mail fill the property up to its limit (5).
    for n in range(2):
        r = await many_ips[4 + n].post(url, json=_hold(agency, 10 * n + 100, 10 * n + 102))
        assert r.status_code == 201, r.text
    r = await many_ips[6].post(url, json=_hold(agency, 200, 202))
    assert r.status_code == 429, r.text
    assert "property" in r.json()["detail"]
    assert int(r.headers["retry-after"]) >= 1


async def test_concurrent_holds_from_one_address_cannot_pass_the_limit(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    s = await _slug(client, agency)
    replies = await asyncio.gather(
        *(
            client.post(f"/api/v1/public/{s}/holds", json=_hold(agency, 10 * n + 10, 10 * n + 12))
            for n in range(8)
        )
    )
    codes = sorted(r.status_code for r in replies)
    assert codes == [201] * 3 + [429] * 5, [r.text for r in replies]
