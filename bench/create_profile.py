"""Booking creation in-process: the CPU of one create through the whole app (routing, its
typed dependencies, the service), the statements it sends, and where its time goes.

    .venv/bin/python -m bench.create_profile                    # 300 creates, CPU per create
    .venv/bin/python -m bench.create_profile --statements       # and the statements of one
    .venv/bin/python -m bench.create_profile --profile 40       # and cProfile's top 40

The app is served by ``httpx.ASGITransport`` in this process (no uvicorn, no sockets), one
create after another on free dates of a property with a default plan, so the figures are
the request path's CPU plus the client's share; PostgreSQL's CPU is read from /proc
(embedded PostgreSQL only). Compare builds with it, not with ``bench.cold_path``'s figures.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event

from bench.bookings import PASSWORD
from bench.harness import BENCH_DATA, say, server_env, services, tree_cpu

PROFILE = BENCH_DATA / "create_profile.prof"


async def _setup(client: httpx.AsyncClient) -> tuple[dict[str, str], list[str], str]:
    r = await client.post(
        "/api/v1/auth/signup",
        json={
            "email": f"profile-{uuid.uuid4().hex[:8]}@example.com",
            "password": PASSWORD,
            "agency_name": "Profile Holidays",
        },
    )
    h = {"authorization": f"Bearer {r.json()['access_token']}"}
    guest = await client.post(
        "/api/v1/guests", json={"email": "g@example.com", "last_name": "Gast"}, headers=h
    )
    props = []
    for k in range(4):
        p = await client.post(
            "/api/v1/properties",
            json={
                "name": f"House {k}",
                "timezone": "Europe/Berlin",
                "currency": "EUR",
                "max_guests": 4,
            },
            headers=h,
        )
        assert p.status_code == 201, p.text
        plan = await client.post(
            f"/api/v1/properties/{p.json()['id']}/rate-plans",
            json={"name": "Standard", "base_price_minor": 12000},
            headers=h,
        )
        assert plan.status_code == 201, plan.text
        props.append(p.json()["id"])
    return h, props, guest.json()["id"]


async def run(args: argparse.Namespace, pg: int | None) -> None:
    from pms.api.app import create_app
    from pms.db import dispose_engine, get_engine

    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        headers, props, guest_id = await _setup(client)
        headers["content-type"] = "application/json"
        first = datetime.now(UTC).date() + timedelta(days=10)
        slot = 0

        async def create() -> None:
            nonlocal slot
            check_in = first + timedelta(days=2 * (slot // len(props)))
            body = json.dumps(
                {
                    "property_id": props[slot % len(props)],
                    "check_in": check_in.isoformat(),
                    "check_out": (check_in + timedelta(days=2)).isoformat(),
                    "adults": 2,
                    "guest_id": guest_id,
                }
            )
            slot += 1
            r = await client.post("/api/v1/bookings", content=body, headers=headers)
            if r.status_code != 201:
                raise RuntimeError(f"create: {r.status_code} {r.text[:300]}")

        for _ in range(args.warmup):
            await create()
        if args.statements:
            sent: list[str] = []

            def record(*a: Any) -> None:
                sent.append(" ".join(str(a[2]).split()))

            # SQLAlchemy's statements through its event; `pms.prepared`'s go straight to the
            # driver, so the driver's call is watched too.
            driver_fetch = asyncpg.Connection.fetch

            async def fetch(conn: asyncpg.Connection, query: str, *args: Any, **kw: Any) -> Any:
                sent.append(" ".join(query.split()))
                return await driver_fetch(conn, query, *args, **kw)

            engine = get_engine().sync_engine
            event.listen(engine, "before_cursor_execute", record)
            asyncpg.Connection.fetch = fetch  # type: ignore[method-assign]
            try:
                await create()
            finally:
                asyncpg.Connection.fetch = driver_fetch  # type: ignore[method-assign]
                event.remove(engine, "before_cursor_execute", record)
            say(f"statements of one create: {len(sent)}")
            for s in sent:
                say(f"  {s[:150]}{'…' if len(s) > 150 else ''}")
        prof = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not wall
        pg0 = tree_cpu(pg) if pg else 0.0
        cpu0, t0 = time.process_time(), time.perf_counter()
        if prof:
            prof.enable()
        for _ in range(args.creates):
            await create()
        if prof:
            prof.disable()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
        pg_cpu = (tree_cpu(pg) - pg0) if pg else 0.0
        n = args.creates
        calls = ""
        if prof:
            raw: dict[Any, tuple[Any, ...]] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
            calls = f", {sum(v[1] for v in raw.values()) / n:,.0f} function calls per create"
        say(
            f"{n} creates: this process {cpu / n * 1000:.2f} ms CPU per create, PostgreSQL "
            f"{pg_cpu / n * 1000:.2f} ms, wall {wall / n * 1000:.2f} ms; load average "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
            + (f"  (under cProfile{calls})" if prof else "")
        )
        if prof:
            prof.dump_stats(str(PROFILE))
            say(f"profile written to {PROFILE}")
            stats = pstats.Stats(prof, stream=sys.stdout)
            stats.sort_stats("tottime").print_stats(args.profile)
            stats.sort_stats("cumulative").print_stats(args.profile)
    await dispose_engine()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--creates", type=int, default=300)
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--statements", action="store_true", help="print the statements of a create")
    p.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile's top N")
    args = p.parse_args()
    with services() as svc:
        os.environ.update(server_env(svc))
        from pms.settings import get_settings

        get_settings.cache_clear()
        asyncio.run(run(args, svc.postgres_pid))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
