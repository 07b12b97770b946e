"""`pms.db`'s pool: a new connection learns the application's enum types at once, and a process
about to serve opens the connections its pool keeps."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text

from pms import db
from pms.core.booking_status import BookingStatus
from pms.settings import Settings


async def test_a_new_connection_knows_every_enum_before_its_first_statement(
    settings: Settings,
) -> None:
    async with db.get_engine().connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        sent: list[str] = []

        def log(record: Any) -> None:
            sent.append(record.query)

        driver.add_query_logger(log)
        try:
            # A booking's status and source, a block's kind, a member's role: each is one of the
            # application's enum types, sent and read back.
            row = await driver.fetchrow(
                "SELECT $1::booking_status, $2::booking_source, 'owner'::block_kind, "
                "'admin'::member_role",
                BookingStatus.HOLD.value,
                "direct",
            )
            # The driver hands each record to the event loop (call_soon): one turn of it
            # delivers them all.
            await asyncio.sleep(0)
        finally:
            driver.remove_query_logger(log)
        assert tuple(row) == ("hold", "direct", "owner", "admin")
        # The statement alone: no catalog query to learn a type (nor the JIT setting the
        # driver turns off around one).
        assert len(sent) == 1, sent
        assert "booking_status" in sent[0]


async def test_open_pool_opens_the_connections_the_pool_keeps(settings: Settings) -> None:
    engine = db.get_engine()
    pool: Any = engine.pool
    assert pool.checkedin() == 0
    await db.open_pool()
    assert pool.checkedin() == pool.size() == settings.db_pool_size
    # And they work: each is handed out again as it is.
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT 1")) == 1
    assert pool.checkedin() == settings.db_pool_size


async def test_the_connection_used_last_is_handed_out_first(settings: Settings) -> None:
    """At one request at a time, every request meets the same warm connection (its statements
    prepared, its plans settled), not each of the pool's connections in turn."""
    await db.open_pool()

    async def backend_pid() -> int:
        async with db.get_engine().connect() as connection:
            pid = await connection.scalar(text("SELECT pg_backend_pid()"))
            assert isinstance(pid, int)
            return pid

    first = await backend_pid()
    assert [await backend_pid() for _ in range(5)] == [first] * 5
