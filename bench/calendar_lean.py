"""The calendar's cost in-process: ``availability.calendar()`` + serialisation as the API does it,
against a lean build of the same answer (one asyncpg query with the labels joined in, plain
dicts, ``pydantic_core.to_json``). No HTTP, no authentication: only the part the API code owns.

    .venv/bin/python -m bench.calendar_lean                 # 1,000 properties, 100,000 bookings
    .venv/bin/python -m bench.calendar_lean --properties 200 --bookings 5000

A measurement aid for the suggestions in bench/README.md, not a proposed implementation (it
skips the owner-role narrowing and the 404 for unknown ids).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import asyncpg
import pydantic_core

from bench.bookings import CALENDAR_DAYS, CALENDAR_PROPERTIES, LOAD_FROM, MEAN_STAY_SPAN, load
from bench.harness import plain, say, services

RANGES = """
SELECT r.property_id, r.start, r."end", r.status, r.booking_id, r.block_id,
       b.reference, bl.kind::text AS kind
  FROM occupied_ranges r
  LEFT JOIN bookings b ON b.id = r.booking_id
  LEFT JOIN blocks bl ON bl.id = r.block_id
 WHERE r.property_id = ANY($1::uuid[]) AND r.status = ANY($2::text[])
   AND r.start < $4 AND r."end" > $3
   AND NOT (r.status = 'hold' AND r.hold_expires_at <= now())
"""
PROPERTIES = (
    "SELECT id FROM properties WHERE agency_id = $1 AND deleted_at IS NULL "
    "AND id = ANY($2::uuid[]) ORDER BY name"
)


async def lean_calendar(
    pool: asyncpg.Pool,
    agency_id: uuid.UUID,
    ids: list[uuid.UUID],
    start: date,
    end: date,
    active: list[str],
) -> bytes:
    async with pool.acquire() as con, con.transaction():
        await con.execute("SELECT set_config('app.agency_id', $1, true)", str(agency_id))
        order = await con.fetch(PROPERTIES, agency_id, ids)
        rows = await con.fetch(RANGES, ids, active, start, end)
    n = (end - start).days
    dates = [(start + timedelta(days=i)).isoformat() for i in range(n)]
    free = [
        {"date": d, "status": "free", "booking_id": None, "block_id": None, "label": None}
        for d in dates
    ]
    by_property: dict[uuid.UUID, list[dict[str, Any]]] = {r["id"]: list(free) for r in order}
    for r in rows:
        days = by_property[r["property_id"]]
        status = "blocked" if r["block_id"] else "hold" if r["status"] == "hold" else "booked"
        label = r["reference"] if r["booking_id"] else f"{r['kind']} block"
        booking_id = str(r["booking_id"]) if r["booking_id"] else None
        block_id = str(r["block_id"]) if r["block_id"] else None
        for i in range(max(0, (r["start"] - start).days), min(n, (r["end"] - start).days)):
            days[i] = {
                "date": dates[i],
                "status": status,
                "booking_id": booking_id,
                "block_id": block_id,
                "label": label,
            }
    return pydantic_core.to_json(
        {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "properties": [{"property_id": str(p), "days": d} for p, d in by_property.items()],
        }
    )


async def timed(what: str, fn: Callable[[], Awaitable[bytes]], n: int) -> bytes:
    body = await fn()  # warm: statement caches, compiled SQL
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        body = await fn()
    say(
        f"{what:<52} {(time.perf_counter() - wall) / n * 1000:7.1f} ms wall "
        f"{(time.process_time() - cpu) / n * 1000:7.1f} ms CPU   {len(body):,} bytes"
    )
    return body


async def run(database_url: str, args: argparse.Namespace) -> None:
    from pms.core import availability
    from pms.core.booking_status import INVENTORY_ACTIVE
    from pms.core.permissions import Role
    from pms.core.tenancy import Actor
    from pms.db import dispose_engine, transaction
    from pms.schemas.booking import Calendar

    agency_id = uuid.uuid4()
    conn = await asyncpg.connect(plain(database_url))
    try:
        await conn.execute(
            "INSERT INTO agencies (id, name, slug) VALUES ($1, 'Bench', 'bench')", agency_id
        )
    finally:
        await conn.close()
    t = time.perf_counter()
    property_ids, _, _ = await load(database_url, agency_id, args.properties, args.bookings, 4)
    say(
        f"loaded {args.properties:,} properties, {args.bookings:,} bookings in "
        f"{time.perf_counter() - t:.1f} s"
    )
    per_property = args.bookings / args.properties
    start = LOAD_FROM + timedelta(days=int(per_property * MEAN_STAY_SPAN / 2))
    end = start + timedelta(days=CALENDAR_DAYS)
    ids = property_ids[:CALENDAR_PROPERTIES]
    actor = Actor(
        user_id=uuid.uuid4(), email="bench@example.com", agency_id=agency_id, role=Role.ADMIN
    )

    async def current() -> bytes:
        async with transaction(agency_id) as session:
            cal = await availability.calendar(session, actor, start, end, ids)
        return Calendar.__pydantic_serializer__.to_json(cal)

    pool = await asyncpg.create_pool(
        plain(database_url), min_size=1, max_size=2, server_settings={"role": "pms_app"}
    )
    try:
        a = await timed("availability.calendar() + Calendar serialisation", current, args.n)
        b = await timed(
            "lean: one joined asyncpg query, dicts, to_json",
            lambda: lean_calendar(pool, agency_id, ids, start, end, list(INVENTORY_ACTIVE)),
            args.n,
        )
        say(f"same answer: {json.loads(a) == json.loads(b)}")
    finally:
        await pool.close()
        await dispose_engine()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--properties", type=int, default=1000)
    p.add_argument("--bookings", type=int, default=100_000)
    p.add_argument("-n", type=int, default=20, help="timed repetitions")
    args = p.parse_args()
    with services() as svc:
        for note in svc.notes:
            say(note)
        os.environ.update(DATABASE_URL=svc.database_url, REDIS_URL=svc.redis_url)
        from pms.settings import reset_settings_cache

        reset_settings_cache()
        asyncio.run(run(svc.database_url, args))


if __name__ == "__main__":
    main()
