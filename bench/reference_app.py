"""The reference the bench measures the app against: the same framework and server with nothing
of ours in the way. ``GET /bare`` answers a tiny JSON document; ``POST /insert`` runs one raw
single-row asyncpg INSERT (pool made at startup, sized like the app's: ``DB_POOL_SIZE`` kept,
up to ``DB_MAX_OVERFLOW`` more).

For ``bench.cold_path``, the same answers as three endpoints of the app, each as raw SQL in one
transaction. It declares the agency as the app does, but connects as the database's owner,
to which row-level security does not apply: it does the app's work without the policies'
checks, the stricter reference. (Tried as the application role in one run: its booking line
cost the same, and its calendar line served 41 requests a second in the base phase, where
connected as the owner it serves 106-134.)

- ``GET /search``: the bookable properties of a stay and their nightly sums, one query over
  the stored ARI rows (JSON built by PostgreSQL);
- ``GET /ranges``: the stays, live holds and blocks of the named properties overlapping a
  window, as the range form's JSON, one query;
- ``POST /booking``: a booking (its occupied range by the same trigger), its outbox events
  (booking.created, availability.changed, ari.changed), its audit row and the ARI rows it
  closes, in one transaction of two statements.

Served exactly like ``pms api`` serves the app (``uvicorn.run`` with the same arguments):
``python -m bench.reference_app --port N [--workers W]`` with ``DATABASE_URL`` set.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Annotated, Any

import asyncpg
from fastapi import FastAPI, Query, Request, Response, status
from sqlalchemy.engine import make_url

from pms.cli import api_server_options
from pms.logs import configure_logging
from pms.settings import get_settings

TABLE = "bench_reference_inserts"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    "id bigserial PRIMARY KEY, payload text NOT NULL, "
    "created_at timestamptz NOT NULL DEFAULT now())"
)


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)  # as the app does
    url = (
        make_url(os.environ["DATABASE_URL"])
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    pool_holder: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            url,
            min_size=settings.db_pool_size,
            max_size=settings.db_pool_size + settings.db_max_overflow,
        )
        pool_holder["pool"] = pool
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/bare")
    async def bare() -> dict[str, Any]:
        return {"status": "ok"}

    @app.post("/insert", status_code=status.HTTP_201_CREATED)
    async def insert(request: Request) -> dict[str, Any]:
        payload = (await request.body()).decode()
        row_id = await pool_holder["pool"].fetchval(
            f"INSERT INTO {TABLE} (payload) VALUES ($1) RETURNING id", payload
        )
        return {"id": row_id}

    @app.get("/search")
    async def search(
        agency: uuid.UUID, check_in: date, check_out: date, adults: int = 1
    ) -> Response:
        nights = (check_out - check_in).days
        async with pool_holder["pool"].acquire() as conn, conn.transaction():
            await conn.execute(_AGENCY, str(agency))
            body = await conn.fetchval(
                SEARCH_SQL, agency, check_in, check_out, nights, adults, check_out + _DAY
            )
        return Response(body, media_type="application/json")

    @app.get("/ranges")
    async def ranges(
        agency: uuid.UUID,
        start: date,
        end: date,
        property_ids: Annotated[list[uuid.UUID], Query()],
    ) -> Response:
        async with pool_holder["pool"].acquire() as conn, conn.transaction():
            await conn.execute(_AGENCY, str(agency))
            # A plan per window: the generic plan of this prepared statement read every past
            # stay once the history was loaded (2.4 s of PostgreSQL per request).
            await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
            body = await conn.fetchval(RANGES_SQL, agency, start, end, property_ids)
        return Response(body, media_type="application/json")

    @app.post("/booking", status_code=status.HTTP_201_CREATED)
    async def booking(request: Request) -> Response:
        b = json.loads(await request.body())
        check_in, check_out = date.fromisoformat(b["check_in"]), date.fromisoformat(b["check_out"])
        async with pool_holder["pool"].acquire() as conn, conn.transaction():
            await conn.execute(_AGENCY, b["agency_id"])
            row = await conn.fetchrow(
                BOOKING_SQL,
                uuid.UUID(b["agency_id"]),
                uuid.UUID(b["property_id"]),
                uuid.UUID(b["guest_id"]),
                check_in,
                check_out,
                b["adults"],
                uuid.UUID(b["rate_plan_id"]),
                uuid.UUID(b["user_id"]),
            )
        return Response(
            json.dumps({"id": str(row["id"]), "reference": row["reference"]}),
            status_code=201,
            media_type="application/json",
        )

    return app


_DAY = timedelta(days=1)
_AGENCY = "SELECT set_config('app.agency_id', $1, true)"

SEARCH_SQL = """
SELECT coalesce(json_agg(json_build_object('property_id', p.id, 'nightly_sum', a.total)
                         ORDER BY a.total, p.name), '[]')::text
  FROM properties p
  JOIN rate_plans rp ON rp.property_id = p.id AND rp.is_default
  CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE d.day < $3 AND d.available) AS open_nights,
           sum(d.price_minor) FILTER (WHERE d.day < $3) AS total,
           bool_or(d.day = $2 AND (d.min_stay > $4 OR d.max_stay < $4 OR d.closed_to_arrival))
             AS arrival_refuses,
           bool_or(d.day = $3 AND d.closed_to_departure) AS departure_refuses
      FROM ari_days d
     WHERE d.rate_plan_id = rp.id AND d.day >= $2 AND d.day < $6) a
 WHERE p.agency_id = $1 AND p.is_listed AND p.deleted_at IS NULL AND p.max_guests >= $5
   AND a.open_nights = $4 AND NOT coalesce(a.arrival_refuses, false)
   AND NOT coalesce(a.departure_refuses, false)
"""

RANGES_SQL = """
WITH found AS (
  SELECT o.property_id, o.start, o."end", o.status, o.booking_id, o.block_id,
         b.reference, b.source, g.first_name, g.last_name, bl.kind
    FROM occupied_ranges o
    LEFT JOIN bookings b ON b.id = o.booking_id
    LEFT JOIN guests g ON g.id = b.guest_id
    LEFT JOIN blocks bl ON bl.id = o.block_id
   WHERE o.property_id = ANY($4)
     AND o.status IN ('checked_in', 'checked_out', 'confirmed', 'hold', 'block')
     AND o.start < $3 AND o."end" > $2
     AND NOT (o.status = 'hold' AND o.hold_expires_at <= now())
), per_property AS (
  SELECT f.property_id,
         json_agg(json_strip_nulls(json_build_object(
           'start', f.start, 'end', f."end",
           'kind', CASE f.status WHEN 'block' THEN 'blocked' WHEN 'hold' THEN 'hold'
                   ELSE 'booked' END,
           'label', coalesce(f.reference, f.kind::text || ' block'),
           'booking_id', f.booking_id, 'reference', f.reference,
           'status', CASE WHEN f.booking_id IS NOT NULL THEN f.status END,
           'source', f.source,
           'guest_name', nullif(concat_ws(' ', f.first_name, f.last_name), ''),
           'block_id', f.block_id, 'block_kind', f.kind)) ORDER BY f.start) AS ranges
    FROM found f
   GROUP BY f.property_id
)
SELECT json_build_object(
  'start', $2::date, 'end', $3::date,
  'properties', coalesce(json_agg(json_build_object(
    'property_id', p.id, 'ranges', coalesce(r.ranges, '[]')) ORDER BY p.name), '[]'))::text
  FROM properties p
  LEFT JOIN per_property r ON r.property_id = p.id
 WHERE p.agency_id = $1 AND p.deleted_at IS NULL AND p.id = ANY($4)
"""

BOOKING_SQL = """
WITH new_booking AS (
  INSERT INTO bookings (agency_id, property_id, guest_id, status, source, check_in, check_out,
                        adults, children, infants, pets, version, quote)
  SELECT $1, $2, $3, 'confirmed', 'manual', $4, $5, $6, 0, 0, 0, 1,
         jsonb_build_object('total', jsonb_build_object('amount_minor', sum(d.price_minor),
                                                        'currency', 'EUR'))
    FROM ari_days d WHERE d.rate_plan_id = $7 AND d.day >= $4 AND d.day < $5
  RETURNING id, reference
), closed AS (
  UPDATE ari_days SET available = false
   WHERE rate_plan_id = $7 AND day >= $4 AND day < $5
  RETURNING day
), events AS (
  INSERT INTO outbox_events (agency_id, event_type, aggregate_type, aggregate_id, payload)
  SELECT $1, e.event_type, e.aggregate_type, e.aggregate_id, e.payload
    FROM new_booking nb, LATERAL (VALUES
      ('booking.created', 'booking', nb.id::text,
       jsonb_build_object('booking_id', nb.id, 'reference', nb.reference)),
      ('availability.changed', 'property', $2::text,
       jsonb_build_object('property_id', $2, 'start', $4, 'end', $5)),
      ('ari.changed', 'rate_plan', $7::text,
       jsonb_build_object('property_id', $2, 'rate_plan_id', $7, 'start', $4, 'end', $5,
                          'days', (SELECT count(*) FROM closed)))
    ) AS e(event_type, aggregate_type, aggregate_id, payload)
), audit AS (
  INSERT INTO audit_log (agency_id, actor_user_id, entity_type, entity_id, action, after)
  SELECT $1, $8, 'booking', nb.id::text, 'created',
         jsonb_build_object('reference', nb.reference, 'check_in', $4, 'check_out', $5)
    FROM new_booking nb
)
SELECT id, reference FROM new_booking
"""


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1, help="as `pms api --workers`")
    args = parser.parse_args()
    # Served as ``pms api`` serves the app: the same uvicorn options (`pms.cli`).
    uvicorn.run(
        "bench.reference_app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        **api_server_options(get_settings()),
    )


if __name__ == "__main__":
    main()
