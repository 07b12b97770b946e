"""Airbnb reservation requests and alteration requests: staff confirm or decline in Core and
the decision reaches Airbnb; a request nobody decides expires as Airbnb says."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from tests.integration.channel.helpers import connect, priced_agency, reconciled, window
from tests.sandbox.conftest import Served
from tests.services import Worker, eventually


async def test_request_accept_decline_expiry_and_alteration(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox_server: Served,
    relay: Worker,
    worker: Worker,
) -> None:
    sandbox = httpx.AsyncClient(base_url=sandbox_server.url, timeout=10)
    (await sandbox.post("/control/reset")).raise_for_status()
    hook = {"url": f"{api_url}/api/v1/channels/airbnb/webhooks", "backoff_base_s": 0.2}
    (await sandbox.put("/control/airbnb/webhook", json=hook)).raise_for_status()
    a = await priced_agency(api)
    c = await connect(api, a, ("50001",))
    start, _ = window()

    async def request(offset: int) -> str:
        arrival = start + timedelta(days=offset)
        r = await sandbox.post(
            "/control/airbnb/bookings",
            json={
                "listing_id": "50001",
                "arrival": arrival.isoformat(),
                "departure": (arrival + timedelta(days=2)).isoformat(),
                "request": True,
                "force": True,
            },
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def core(code: str) -> dict[str, Any] | None:
        r = await api.get("/api/v1/bookings", params={"limit": 200}, headers=a.auth())
        found = [b for b in r.json()["items"] if b["channel_booking_id"] == code]
        return found[0] if found else None

    async def remote(code: str) -> str:
        r = await sandbox.get("/control/airbnb/reservations")
        return next(x["status"] for x in r.json() if x["confirmation_code"] == code)

    accept, decline, lapse = await request(30), await request(40), await request(50)
    for code in (accept, decline, lapse):
        booking = await eventually(lambda c=code: core(c), 30, f"request {code} in Core")
        assert booking["status"] == "requested"

    b = await core(accept)
    assert b is not None
    r = await api.post(f"/api/v1/bookings/{b['id']}/confirm", headers=a.auth())
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed"
    assert await remote(accept) == "accepted"

    b = await core(decline)
    assert b is not None
    r = await api.post(f"/api/v1/bookings/{b['id']}/decline", headers=a.auth())
    assert r.status_code == 200, r.text
    assert await remote(decline) == "denied"

    # An alteration request on the accepted booking: staff accept, the new stay arrives.
    b = await core(accept)
    assert b is not None
    new_in = start + timedelta(days=31)
    r = await sandbox.patch(
        f"/control/airbnb/bookings/{accept}",
        json={
            "arrival": new_in.isoformat(),
            "departure": (new_in + timedelta(days=3)).isoformat(),
            "request": True,
        },
    )
    assert r.status_code == 200, r.text

    async def alteration_known() -> bool:
        r = await api.post(f"/api/v1/bookings/{b['id']}/confirm", headers=a.auth())
        return r.status_code == 200 and (await remote_alteration(sandbox, accept)) == "accepted"

    await eventually(alteration_known, 30, "the alteration accepted on Airbnb")

    async def moved() -> bool:
        found = await core(accept)
        return bool(found and found["check_in"] == new_in.isoformat())

    await eventually(moved, 30, "the altered stay in Core")

    # Nobody decides: after Airbnb's 24 h the request expires there and here.
    (await sandbox.post("/control/clock/advance", json={"seconds": 25 * 3600})).raise_for_status()

    async def expired() -> bool:
        found = await core(lapse)
        return bool(found and found["status"] == "expired")

    # The sandbox's clock is now a day ahead, so its webhooks fail our timestamp tolerance (as
    # a platform with a broken clock would): reconciliation pulls the expiry instead.
    await reconciled(api, a.auth(), c.connection_id)
    await eventually(expired, 30, "the request to expire in Core")


async def remote_alteration(sandbox: httpx.AsyncClient, code: str) -> str | None:
    r = await sandbox.get("/control/airbnb/webhooks")
    kinds = [d["event_type"] for d in r.json()]
    return "accepted" if "alteration.accepted" in kinds else None
