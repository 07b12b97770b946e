"""Unhappy paths against the Airbnb simulator: an overbooking from Airbnb is kept as a conflict
(alert, listed, resolved with an audit row); a booking on an unmapped listing raises an alert and
waits; a platform that keeps failing leaves a dead letter that a retry clears; credentials the
platform refuses revoke the connection with an alert, and nothing is retried."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from tests.integration.channel.helpers import (
    airbnb_sandbox,
    connect,
    priced_agency,
    sim_days,
    window,
)
from tests.sandbox.conftest import Served
from tests.services import Worker, eventually


async def _alerts(api: httpx.AsyncClient, h: dict[str, str], kind: str) -> list[dict[str, Any]]:
    r = await api.get("/api/v1/alerts", params={"kind": kind}, headers=h)
    return list(r.json()["items"])


async def _blocks(api: httpx.AsyncClient, h: dict[str, str], pid: str) -> dict[str, Any]:
    r = await api.get("/api/v1/blocks", params={"property_id": pid, "limit": 200}, headers=h)
    return {b["id"]: b for b in r.json()["items"]}


async def test_an_overbooking_from_airbnb_is_a_conflict_and_unmapped_listings_alert(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox_server: Served,
    relay: Worker,
    worker: Worker,
) -> None:
    sandbox = await airbnb_sandbox(sandbox_server.url, api_url)
    a = await priced_agency(api)
    h = a.auth()
    await connect(api, a, ("50001",))
    start, _ = window()
    arrival = start + timedelta(days=10)
    stay = {"check_in": arrival.isoformat(), "check_out": (arrival + timedelta(days=3)).isoformat()}
    r = await api.post(
        "/api/v1/bookings",
        json={"property_id": a.property_id, "guest_id": a.guest_id, **stay},
        headers=h,
    )
    assert r.status_code == 201, r.text
    ours = r.json()["id"]
    # The guest books on Airbnb anyway (Airbnb had not closed the nights yet), two nights
    # beyond our stay as well.
    r = await sandbox.post(
        "/control/airbnb/bookings",
        json={
            "listing_id": "50001",
            "arrival": (arrival + timedelta(days=1)).isoformat(),
            "departure": (arrival + timedelta(days=5)).isoformat(),
            "force": True,
        },
    )
    assert r.status_code == 201, r.text
    code = r.json()["id"]

    async def conflict() -> list[dict[str, Any]]:
        r = await api.get("/api/v1/channel-conflicts", headers=h)
        return list(r.json()["items"])

    found = (await eventually(conflict, 30, "the conflict"))[0]
    assert found["clashing_booking_id"] == ours
    r = await api.get(f"/api/v1/bookings/{found['booking_id']}", headers=h)
    assert r.json()["status"] == "conflict"
    assert r.json()["channel_booking_id"] == code
    assert await _alerts(api, h, "channel_conflict")
    # The nights only the Airbnb guest wants are held (closed everywhere) until it is resolved.
    assert len(found["held_block_ids"]) == 1
    held = (await _blocks(api, h, a.property_id))[found["held_block_ids"][0]]
    assert (held["start"], held["end"]) == (
        (arrival + timedelta(days=3)).isoformat(),
        (arrival + timedelta(days=5)).isoformat(),
    )
    r = await api.post(
        f"/api/v1/channel-conflicts/{found['id']}/resolve", json={"action": "cancel"}, headers=h
    )
    assert r.status_code == 200, r.text
    assert r.json()["resolution"] == "cancel"
    assert await conflict() == []
    assert found["held_block_ids"][0] not in await _blocks(api, h, a.property_id)
    r = await api.get("/api/v1/audit-log", params={"limit": 200}, headers=h)
    assert any(e["action"] == "resolved:cancel" for e in r.json()["items"])

    # A booking on a listing of the account that is not mapped: an alert, and it waits.
    r = await sandbox.post(
        "/control/airbnb/bookings",
        json={
            "listing_id": "50002",
            "arrival": arrival.isoformat(),
            "departure": (arrival + timedelta(days=2)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    await eventually(lambda: _alerts(api, h, "channel_unmapped_listing"), 30, "unmapped alert")


async def test_dead_letters_retry_and_revoked_credentials(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox_server: Served,
    relay: Worker,
    worker: Worker,
) -> None:
    sandbox = await airbnb_sandbox(sandbox_server.url, api_url)
    a = await priced_agency(api)
    h = a.auth()
    c = await connect(api, a, ("50001",))
    start, _ = window()
    base = f"/api/v1/channel-connections/{c.connection_id}"

    async def synced() -> bool:
        r = await api.get(base, headers=h)
        return r.json()["health"]["lag_seconds"] is None and r.json()["last_push_at"] is not None

    await eventually(synced, 60, "the full sync")
    # Airbnb fails every call: the change ends as a dead letter.
    (
        await sandbox.put("/control/airbnb/faults", json={"seed": 7, "error_rate": 1.0})
    ).raise_for_status()
    night = start + timedelta(days=5)
    r = await api.put(
        f"/api/v1/rate-plans/{a.rate_plan_id}/days",
        json={
            "ranges": [
                {
                    "start": night.isoformat(),
                    "end": (night + timedelta(days=1)).isoformat(),
                    "price_minor": 31400,
                }
            ]
        },
        headers=h,
    )
    assert r.status_code == 200, r.text

    async def dead() -> list[dict[str, Any]]:
        r = await api.get(f"{base}/dead-letters", headers=h)
        return list(r.json())

    letter = (await eventually(dead, 60, "a dead letter"))[0]
    assert "503" in letter["error"] or "500" in letter["error"]
    r = await api.get(base, headers=h)
    assert r.json()["status"] == "error"
    assert r.json()["failures_in_row"] >= 1
    # Airbnb is back; the retry pushes the state as it is now.
    (await sandbox.delete("/control/airbnb/faults")).raise_for_status()
    r = await api.post(f"{base}/dead-letters/{letter['id']}/retry", headers=h)
    assert r.status_code == 200, r.text

    async def priced() -> bool:
        days = await sim_days(sandbox, "50001", night, night + timedelta(days=1))
        return days[night.isoformat()]["price"] == "314.00"

    await eventually(priced, 60, "the retried price on Airbnb")
    assert await dead() == []

    # Airbnb refuses the credentials: the connection is revoked, with an alert, not retried.
    (
        await sandbox.put("/control/airbnb/faults", json={"seed": 8, "expired_credentials": True})
    ).raise_for_status()
    r = await api.post(f"{base}/test", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is False
    assert r.json()["status"] == "revoked"
    assert await _alerts(api, h, "channel_revoked")
    r = await api.patch(base, json={"status": "active"}, headers=h)
    assert r.status_code == 409
    assert "sandbox-airbnb-secret" not in r.text
