"""A new booking closes its nights in the stored ARI rows even when a recomputation of the same
plan commits while the booking waits for the plans' lock.

The nights are closed by ``pms_nights_taken``, called from the statement that writes the
booking. Its UPDATE must read a snapshot taken after the lock: the recomputation here replaces
the rows of the stay's nights with new row versions, which a snapshot taken when the booking's
statement started would not see (those nights would stay open for sale on every channel)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from tests.factories import Agency, full_agency
from tests.services import eventually, plain


async def _a_session_waits_for_a_lock(admin: asyncpg.Connection) -> bool:
    return bool(
        await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
    )


async def test_nights_close_in_rows_a_recomputation_wrote_while_the_booking_waited(
    client: httpx.AsyncClient, admin: asyncpg.Connection, database_url: str
) -> None:
    a: Agency = await full_agency(client)
    r = await client.post(
        f"/api/v1/properties/{a.property_id}/rate-plans",
        json={"name": "Standard", "base_price_minor": 10000},
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    plan_id = r.json()["id"]
    start = datetime.now(UTC).date() + timedelta(days=40)
    end = start + timedelta(days=3)
    nights = "rate_plan_id = $1::uuid AND day >= $2 AND day < $3"

    recomputation = await asyncpg.connect(plain(database_url))
    try:
        tx = recomputation.transaction()
        await tx.start()
        # What a recomputation does first: lock the property's plans in id order. Then it
        # writes the nights' rows again as new row versions (here unchanged, still open).
        await recomputation.execute(
            "SELECT id FROM rate_plans WHERE property_id = $1::uuid ORDER BY id FOR UPDATE",
            a.property_id,
        )
        await recomputation.execute(
            f"CREATE TEMP TABLE kept ON COMMIT DROP AS SELECT * FROM ari_days WHERE {nights}",
            plan_id,
            start,
            end,
        )
        await recomputation.execute(f"DELETE FROM ari_days WHERE {nights}", plan_id, start, end)
        await recomputation.execute("INSERT INTO ari_days SELECT * FROM kept")

        booking = asyncio.create_task(
            client.post(
                "/api/v1/bookings",
                json={
                    "property_id": a.property_id,
                    "check_in": start.isoformat(),
                    "check_out": end.isoformat(),
                    "adults": 2,
                    "guest_id": a.guest_id,
                },
                headers=a.auth(),
            )
        )
        await eventually(
            lambda: _a_session_waits_for_a_lock(admin), within=30, what="the booking to wait"
        )
        await tx.commit()
        r = await booking
    finally:
        await recomputation.close()
    assert r.status_code == 201, r.text

    rows = await admin.fetch(
        f"SELECT day, available FROM ari_days WHERE {nights} ORDER BY day", plan_id, start, end
    )
    assert [(row["day"], row["available"]) for row in rows] == [
        (start + timedelta(days=i), False) for i in range(3)
    ]
    announced = await admin.fetchval(
        "SELECT payload FROM outbox_events WHERE event_type = 'ari.changed' "
        "AND aggregate_id = $1 ORDER BY id DESC LIMIT 1",
        plan_id,
    )
    assert json.loads(announced) == {
        "property_id": a.property_id,
        "rate_plan_id": plan_id,
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
