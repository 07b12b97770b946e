"""Airbnb reservation requests and alteration requests: staff confirm or decline in Core and
the decision reaches Airbnb; a request nobody decides expires as Airbnb says."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from tests.integration.channel.helpers import (
    airbnb_sandbox,
    another_session_waits_for_a_lock,
    book_on_airbnb,
    booking_for,
    connect,
    priced_agency,
    reconciled,
    window,
)
from tests.sandbox.conftest import Served
from tests.services import Worker, eventually, plain


async def test_request_accept_decline_expiry_and_alteration(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox_server: Served,
    relay: Worker,
    worker: Worker,
) -> None:
    sandbox = await airbnb_sandbox(sandbox_server.url, api_url)
    a = await priced_agency(api)
    c = await connect(api, a, ("50001",))
    start, _ = window()

    async def request(offset: int) -> str:
        return await book_on_airbnb(sandbox, start + timedelta(days=offset), request=True)

    async def core(code: str) -> dict[str, Any] | None:
        return await booking_for(api, a, code)

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


async def test_a_decision_taken_while_the_platforms_message_applies_waits_instead_of_deadlocking(
    api: httpx.AsyncClient,
    api_url: str,
    database_url: str,
    sandbox_server: Served,
    relay: Worker,
    worker: Worker,
) -> None:
    """An inbound message locks the reservation record, then the booking. A staff decision on
    the same stay takes them in the same order, so it waits for the message and then goes
    through; in the other order the two deadlock and PostgreSQL aborts one of them."""
    sandbox = await airbnb_sandbox(sandbox_server.url, api_url)
    a = await priced_agency(api)
    await connect(api, a, ("50001",))
    code = await book_on_airbnb(sandbox, window()[0] + timedelta(days=30), request=True)
    booking = await eventually(lambda: booking_for(api, a, code), 30, "the request in Core")
    booking_id = booking["id"]
    applying = await asyncpg.connect(plain(database_url))
    try:
        # What applying a message does first: lock the platform's reservation record.
        tx = applying.transaction()
        await tx.start()
        await applying.execute(
            "SELECT 1 FROM channel_reservations WHERE code = $1 FOR UPDATE", code
        )
        decision = asyncio.create_task(
            api.post(f"/api/v1/bookings/{booking_id}/confirm", headers=a.auth())
        )

        await eventually(
            lambda: another_session_waits_for_a_lock(applying),
            30,
            "the decision to wait for the record's lock",
        )
        # Then the booking: granted at once, as the decision holds nothing yet.
        await applying.execute("SET LOCAL lock_timeout = '10s'")
        await applying.execute(
            "SELECT 1 FROM bookings WHERE id = $1 FOR UPDATE", uuid.UUID(booking_id)
        )
        await tx.commit()
    finally:
        await applying.close()
    r = await decision
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed"
    reservations = (await sandbox.get("/control/airbnb/reservations")).json()
    assert next(x["status"] for x in reservations if x["confirmation_code"] == code) == "accepted"


async def test_a_message_whose_apply_a_concurrent_transaction_rolled_back_is_applied_again(
    api: httpx.AsyncClient,
    api_url: str,
    database_url: str,
    sandbox_server: Served,
    relay: Worker,
    worker: Worker,
) -> None:
    """PostgreSQL rolls the apply back (here a deadlock with another transaction on the same
    stay, which the apply loses): the worker applies the message again at once, without
    waiting for the sweep that picks up failed messages."""
    sandbox = await airbnb_sandbox(sandbox_server.url, api_url)
    a = await priced_agency(api)
    await connect(api, a, ("50001",))
    arrival = window()[0] + timedelta(days=30)
    code = await book_on_airbnb(sandbox, arrival)
    booking = await eventually(lambda: booking_for(api, a, code), 30, "the booking in Core")
    other = await asyncpg.connect(plain(database_url))
    try:
        tx = other.transaction()
        await tx.start()
        # The apply, waiting first, is the one that finds the deadlock and is rolled back.
        await other.execute("SET LOCAL deadlock_timeout = '20s'")
        await other.execute(
            "SELECT 1 FROM bookings WHERE id = $1 FOR UPDATE", uuid.UUID(booking["id"])
        )
        moved_in = arrival + timedelta(days=10)
        r = await sandbox.patch(
            f"/control/airbnb/bookings/{code}",
            json={
                "arrival": moved_in.isoformat(),
                "departure": (moved_in + timedelta(days=2)).isoformat(),
            },
        )
        assert r.status_code == 200, r.text

        await eventually(
            lambda: another_session_waits_for_a_lock(other),
            30,
            "the apply to wait for the booking's lock",
        )
        await other.execute("SELECT 1 FROM channel_reservations WHERE code = $1 FOR UPDATE", code)
        await tx.commit()

        async def deadlocked() -> bool:
            found = await other.fetchval(
                "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
            )
            return bool(found)

        await eventually(deadlocked, 10, "PostgreSQL to count the deadlock")

        async def moved() -> bool:
            found = await booking_for(api, a, code)
            return bool(found and found["check_in"] == moved_in.isoformat())

        # Well inside the 15 s after which the sweep would first look at a failed message.
        await eventually(moved, 10, "the message applied again")
        status = await other.fetchval(
            "SELECT status FROM channel_inbox WHERE platform = 'airbnb' ORDER BY id DESC LIMIT 1"
        )
        assert status == "applied"
    finally:
        await other.close()
