"""Finding 4: an Idempotency-Key never sticks after a crash. The key's response is stored in the
transaction of the change it answers, so a request killed before its commit leaves neither a
change nor a key, and its retry simply runs; a committed one replays its stored answer."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from pms import db
from pms.core import blocks
from pms.core.permissions import Role
from pms.core.tenancy import Actor
from pms.schemas.booking import BlockCreate
from pms.settings import Settings
from tests.factories import full_agency
from tests.reliability.conftest import ApiProcess
from tests.services import eventually, plain

KEY = "killed-mid-transaction"


async def test_a_request_killed_before_its_commit_leaves_no_key_and_its_retry_runs(
    client: httpx.AsyncClient, api_process: ApiProcess, settings: Settings
) -> None:
    a = await full_agency(client, "Crash Keys")
    body = {
        "property_id": a.property_id,
        "check_in": "2037-03-01",
        "check_out": "2037-03-04",
        "guest_id": a.guest_id,
    }
    headers = {**a.auth(), "Idempotency-Key": KEY}
    pg = await asyncpg.connect(plain(settings.require_database_url()))
    engine = db.create_engine(settings.require_database_url(), app_role=settings.db_app_role)
    try:
        async with AsyncSession(engine) as blocker, blocker.begin():
            await db.set_tenant(blocker, uuid.UUID(a.id))
            # An uncommitted block on the same nights: the API's booking insert waits on the
            # exclusion constraint, inside its transaction, with the key already claimed.
            await blocks.create(
                blocker,
                Actor(None, "system:test", uuid.UUID(a.id), Role.ADMIN),
                BlockCreate(
                    property_id=uuid.UUID(a.property_id),
                    start=date(2037, 3, 2),
                    end=date(2037, 3, 3),
                ),
            )
            async with httpx.AsyncClient(base_url=api_process.url) as http:
                pending = asyncio.create_task(
                    http.post("/api/v1/bookings", json=body, headers=headers, timeout=60)
                )

                async def waiting_on_the_block() -> bool:
                    return bool(
                        await pg.fetchval(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                            "current_database() AND wait_event_type = 'Lock'"
                        )
                    )

                await eventually(waiting_on_the_block, within=30, what="the insert to wait")
                await asyncio.to_thread(api_process.kill)
                try:
                    await pending
                    raise AssertionError("the killed API answered")
                except httpx.TransportError:
                    pass
            await blocker.rollback()

        async def killed_transaction_ended() -> bool:
            return not await pg.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state <> 'idle'"
            )

        await eventually(killed_transaction_ended, within=30, what="the orphaned transaction")
        assert await pg.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = $1", KEY) == 0
        assert (
            await pg.fetchval(
                "SELECT count(*) FROM bookings WHERE property_id = $1 AND check_in = $2",
                uuid.UUID(a.property_id),
                date(2037, 3, 1),
            )
            == 0
        )
    finally:
        await engine.dispose()
        await pg.close()

    await asyncio.to_thread(api_process.start)
    async with httpx.AsyncClient(base_url=api_process.url) as http:
        first = await http.post("/api/v1/bookings", json=body, headers=headers)
        assert first.status_code == 201, first.text
        assert "idempotent-replayed" not in first.headers
        again = await http.post("/api/v1/bookings", json=body, headers=headers)
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
