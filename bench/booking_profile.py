"""In-process cost of ``POST /api/v1/bookings``: statements and CPU per booking.

    .venv/bin/python -m bench.booking_profile                 # 300 sequential creates
    .venv/bin/python -m bench.booking_profile -n 500 --profile 40   # + cProfile, top 40
    .venv/bin/python -m bench.booking_profile --rate-plan     # properties with a default plan

Starts the embedded services and a fresh migrated database (``bench.harness.services``), loads
a small data set with ``bench.bookings.load``, and sends sequential creates to the app behind
``httpx.ASGITransport`` (no HTTP server, no network). A SQLAlchemy ``before_cursor_execute``
listener counts the statements; the CPU figure is this process's CPU time (app + client) per
booking over the measured requests, after a warm-up. Every answer must be 201.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.bookings import FREE_FROM, load, print_profile
from bench.harness import say, services


def _label(statement: str) -> str:
    s = " ".join(statement.split())
    return s[:110]


async def run(args: argparse.Namespace) -> cProfile.Profile | None:
    from sqlalchemy import event

    from pms.api.app import create_app
    from pms.core.booking_batches import batcher
    from pms.db import dispose_engine, get_engine

    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        r = await client.post(
            "/api/v1/auth/signup",
            json={
                "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
                "password": "bench-password-123456",
                "agency_name": "Bench Holidays",
            },
        )
        assert r.status_code == 201, r.text
        agency_id, token = uuid.UUID(r.json()["agency_id"]), r.json()["access_token"]
        property_ids, guest_ids, _ = await load(
            os.environ["DATABASE_URL"], agency_id, args.properties, args.properties * 5, 7
        )
        headers = {"authorization": f"Bearer {token}"}
        if args.rate_plan:
            for pid in property_ids:
                r = await client.post(
                    f"/api/v1/properties/{pid}/rate-plans",
                    headers=headers,
                    json={"name": "Standard", "base_price_minor": 10000, "is_default": True},
                )
                assert r.status_code == 201, r.text

        statements: Counter[str] = Counter()
        counting = False

        def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
            if counting:
                statements[_label(statement)] += 1

        event.listen(get_engine().sync_engine, "before_cursor_execute", count)

        n_props = len(property_ids)
        # Without a plan: far beyond the loaded stays. With one: inside its ARI window, so
        # every create also recomputes stored rows.
        first = datetime.now(UTC).date() + timedelta(days=30) if args.rate_plan else FREE_FROM

        async def book(slot: int) -> None:
            check_in = first + timedelta(days=3 * (slot // n_props))
            body = {
                "property_id": str(property_ids[slot % n_props]),
                "check_in": check_in.isoformat(),
                "check_out": (check_in + timedelta(days=2)).isoformat(),
                "adults": 2,
                "guest_id": str(guest_ids[slot % len(guest_ids)]),
            }
            resp = await client.post("/api/v1/bookings", headers=headers, json=body)
            if resp.status_code != 201:
                raise RuntimeError(f"{resp.status_code} {resp.text}")

        for slot in range(args.warmup):
            await book(slot)
        if args.baseline:
            # The floor under a booking: the framework alone, and authentication + membership.
            for path in ("/health/live", "/api/v1/me"):
                for _ in range(args.warmup):
                    await client.get(path, headers=headers)
                cpu = time.process_time()
                for _ in range(args.n):
                    resp = await client.get(path, headers=headers)
                    assert resp.status_code == 200, resp.text
                cpu = time.process_time() - cpu
                say(f"GET {path}: {cpu / args.n * 1000:.2f} ms CPU per request")
        counting = True
        profiler = cProfile.Profile() if args.profile else None
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        batches = batcher()
        before = batches.batches
        for start in range(args.warmup, args.warmup + args.n, args.together):
            await asyncio.gather(*(book(slot) for slot in range(start, start + args.together)))
        if profiler:
            profiler.disable()
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        counting = False
        event.remove(get_engine().sync_engine, "before_cursor_execute", count)

        total = sum(statements.values())
        written = batches.batches - before
        how = "sequential" if args.together == 1 else f"{args.together} at a time"
        say(
            f"{args.n} creates, {how}{' (rate plan)' if args.rate_plan else ''}, in "
            f"{written} batches: "
            f"{cpu / args.n * 1000:.2f} ms CPU and {wall / args.n * 1000:.2f} ms wall per "
            f"booking, {total / args.n:.2f} statements per booking"
            f"{' (under cProfile)' if profiler else ''}"
        )
        for stmt, k in sorted(statements.items(), key=lambda kv: -kv[1]):
            say(f"  {k / args.n:5.2f}  {stmt}")
    await dispose_engine()
    return profiler


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("-n", type=int, default=300, help="measured creates")
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument(
        "--together", type=int, default=1, help="send creates this many at a time (batched)"
    )
    p.add_argument("--properties", type=int, default=50)
    p.add_argument("--rate-plan", action="store_true", help="give every property a default plan")
    p.add_argument("--profile", type=int, default=0, help="cProfile; print the top N")
    p.add_argument("--baseline", action="store_true", help="also GET /health/live and /me")
    p.add_argument("--dump", help="keep the cProfile stats in this file")
    args = p.parse_args()
    with services() as svc:
        os.environ.update(
            DATABASE_URL=svc.database_url,
            REDIS_URL=svc.redis_url,
            LOG_LEVEL="WARNING",
            ACCESS_TOKEN_TTL_SECONDS="86400",
        )
        from pms.settings import reset_settings_cache

        reset_settings_cache()
        profiler = asyncio.run(run(args))
    if profiler:
        path = Path(args.dump or f"{tempfile.gettempdir()}/booking_profile_{os.getpid()}.prof")
        profiler.dump_stats(path)
        print_profile(path, args.profile)  # includes the httpx client's share
        if not args.dump:
            path.unlink()


if __name__ == "__main__":
    main()
