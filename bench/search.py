"""Guest search (``GET /api/v1/public/{agency}/search``) for a 7-night stay across 1,000 listed
properties with 100,000 bookings loaded, against a bare request of the same run.

    .venv/bin/python -m bench.search                       # 1,000 properties, 100,000 bookings
    .venv/bin/python -m bench.search --properties 200 --bookings 5000 --seconds 5   # quick

Starts embedded PostgreSQL and Redis (unless DATABASE_URL/REDIS_URL are set), a fresh migrated
database, the app (``pms api``) and the reference app (``GET /bare``) as uvicorn subprocesses;
loads properties and bookings with COPY (``bench.bookings.load``), lists the properties, gives
each a default rate plan through the API (which compiles its 24 months of ARI rows from the
bookings), then drives the search with keep-alive clients. See bench/README.md, "Search".
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import signal
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx

from bench.bookings import load, print_profile, signup
from bench.harness import (
    BENCH_DATA,
    LoadResult,
    Server,
    plain,
    process_cpu,
    python,
    request_head,
    run_load,
    say,
    serve,
    server_env,
    services,
    tree_cpu,
)
from pms.embedded.process import free_port

TARGET = 5.0  # search p99 ≤ 5 x bare p99
NIGHTS = 7
CITIES = ("Westerland", "Kampen", "List", "Hörnum", "Wenningstedt")


async def list_properties(owner_url: str, agency_id: uuid.UUID, seed: int) -> None:
    """Listed, with a city, a position on Sylt and amenities (the loader leaves these out)."""
    rng = random.Random(seed)
    conn = await asyncpg.connect(plain(owner_url))
    try:
        await conn.execute("SELECT set_config('app.agency_id', $1, false)", str(agency_id))
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM properties")]
        await conn.executemany(
            "UPDATE properties SET is_listed = true, city = $2, latitude = $3, longitude = $4, "
            "amenities = $5 WHERE id = $1",
            [
                (
                    pid,
                    rng.choice(CITIES),
                    round(54.75 + rng.random() * 0.3, 6),
                    round(8.27 + rng.random() * 0.15, 6),
                    rng.sample(["wifi", "sauna", "parking", "pets", "fireplace"], 2),
                )
                for pid in ids
            ],
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def add_plans(base: str, token: str, property_ids: list[uuid.UUID], seed: int) -> float:
    """A default rate plan per property through the API (8 at a time): each compiles and stores
    its 24 months of ARI rows from the loaded bookings."""
    rng = random.Random(seed)
    bodies = [
        {
            "name": "Standard",
            "base_price_minor": rng.randrange(8000, 25000, 100),
            "default_min_stay": rng.choice((1, 1, 2, 3)),
            "los_discounts": [{"min_nights": 7, "percent": "10"}],
        }
        for _ in property_ids
    ]
    queue = list(zip(property_ids, bodies, strict=True))
    t = time.perf_counter()
    async with httpx.AsyncClient(
        base_url=base, timeout=120, headers={"authorization": f"Bearer {token}"}
    ) as client:

        async def worker() -> None:
            while queue:
                pid, body = queue.pop()
                r = await client.post(f"/api/v1/properties/{pid}/rate-plans", json=body)
                if r.status_code != 201:
                    raise RuntimeError(f"rate plan: {r.status_code} {r.text[:300]}")

        await asyncio.gather(*(worker() for _ in range(8)))
    return time.perf_counter() - t


def search_path(slug: str, check_in: date, **extra: Any) -> str:
    query = {
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=NIGHTS)).isoformat(),
        "adults": 2,
        **extra,
    }
    return f"/api/v1/public/{slug}/search?{urlencode(query, doseq=True)}"


def fixed(head: bytes) -> Any:
    def make(_: int, __: int) -> tuple[bytes, bytes]:
        return head, b""

    return make


async def bench(
    args: argparse.Namespace, api: Server, ref: Server, owner_url: str, pg: int | None
) -> int:
    base = f"http://127.0.0.1:{api.port}"
    agency_id, token = await signup(base)
    t = time.perf_counter()
    property_ids, _, _ = await load(owner_url, agency_id, args.properties, args.bookings, args.seed)
    say(
        f"loaded {args.properties:,} properties and {args.bookings:,} bookings in "
        f"{time.perf_counter() - t:.1f} s"
    )
    await list_properties(owner_url, agency_id, args.seed)
    seconds = await add_plans(base, token, property_ids, args.seed)
    say(f"{len(property_ids):,} default rate plans (24 months of ARI rows each) in {seconds:.1f} s")
    conn = await asyncpg.connect(plain(owner_url))
    try:
        await conn.execute("SELECT set_config('app.agency_id', $1, false)", str(agency_id))
        last = await conn.fetchval("SELECT max(check_out) FROM bookings")
        rows = await conn.fetchval("SELECT count(*) FROM ari_days")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    say(f"ari_days: {rows:,} rows; the loaded stays end by {last}")

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        slug = (
            await client.get("/api/v1/agency", headers={"authorization": f"Bearer {token}"})
        ).json()["slug"]
        today = datetime.now(UTC).date()
        free_from = max(last, today) + timedelta(days=14)
        cases = {
            # Past the loaded stays: every property is free, so all 1,000 are quoted (worst case).
            "search free": search_path(slug, free_from),
            # Among the loaded stays: most properties are taken and drop out before pricing.
            "search booked": search_path(slug, today + timedelta(days=45)),
            "search filtered": search_path(slug, free_from, location="kampen", amenities=["sauna"]),
        }
        for name, path in cases.items():
            r = await client.get(path)
            if r.status_code != 200:
                raise RuntimeError(f"{name}: {r.status_code} {r.text[:500]}")
            body = r.json()
            say(
                f"{name}: {body['count']} of {len(property_ids)} properties bookable, "
                f"{len(body['results'])} returned, {len(r.content) / 1024:.0f} KiB  ({path})"
            )

    common: dict[str, Any] = {"warmup": args.warmup, "seconds": args.seconds}

    def probe_for(server: Server) -> Any:
        def probe() -> dict[str, float]:
            cpu = {server.name: process_cpu(server.proc.pid)}
            if pg is not None:
                cpu["postgres"] = tree_cpu(pg)
            return cpu

        return probe

    plans: list[tuple[str, Server, Any]] = [("ref GET /bare", ref, "/bare")] + [
        (f"GET {name}", api, path) for name, path in cases.items()
    ]
    # A stay nobody searched for since the last change: each request a different check-in
    # (the free weeks, one day apart), so none is answered from the cache.
    cold_days = max(1, (today + timedelta(days=700) - free_from).days)

    def cold(client: int, k: int) -> tuple[bytes, bytes]:
        n = next(cold_counter)
        path = search_path(slug, free_from + timedelta(days=n % cold_days))
        return request_head("GET", path, api.port, {}), b""

    cold_counter = itertools.count()
    plans.append(("GET search free, new stay", api, cold))
    verdicts: list[bool] = []
    for clients in args.clients:
        say(
            f"\nload: {clients} concurrent keep-alive client(s), {args.warmup:g} s warm-up, "
            f"{args.seconds:g} s measured per endpoint"
        )
        results: dict[str, LoadResult] = {}
        for name, server, path in plans:
            res = await run_load(
                name,
                server.port,
                path if callable(path) else fixed(request_head("GET", path, server.port, {})),
                clients=clients,
                expected=200,
                probe=probe_for(server),
                **common,
            )
            results[name] = res
            say(res.line())
            say(res.cpu_line())
        bare = results["ref GET /bare"]
        new = results["GET search free, new stay"]
        say(
            f"  search free, a new stay each time (not cached): p50 {new.p50_ms:.1f} ms, p99 "
            f"{new.p99_ms:.1f} ms = {new.p99_ms / bare.p99_ms:.0f}x bare p99 (the cost of the "
            "first search for a stay; the target below is for the search as repeated)"
        )
        for name in cases:
            res = results[f"GET {name}"]
            ratio = res.p99_ms / bare.p99_ms if bare.p99_ms else float("inf")
            ok = ratio <= TARGET and not res.unexpected
            verdicts.append(ok)
            say(
                f"  {name}: p50 {res.p50_ms:.1f} ms, p99 {res.p99_ms:.1f} ms = {ratio:.1f}x bare "
                f"p99 {bare.p99_ms:.2f} ms  (target ≤ {TARGET:g}x: {'MET' if ok else 'MISSED'})"
            )
    return 0 if all(verdicts) else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--properties", type=int, default=1000)
    p.add_argument("--bookings", type=int, default=100_000)
    p.add_argument(
        "--clients",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[1, 10],
        help="comma-separated client counts, one load round each (default 1,10)",
    )
    p.add_argument("--seconds", type=float, default=10.0, help="measured time per endpoint")
    p.add_argument("--warmup", type=float, default=2.0, help="uncounted time per endpoint")
    p.add_argument("--seed", type=int, default=4)
    p.add_argument(
        "--profile", action="store_true", help="run the API under cProfile and print hot spots"
    )
    args = p.parse_args()
    prof = BENCH_DATA / "search.prof"

    def on_term(signum: int, _: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    say(f"bench.search  {time.strftime('%Y-%m-%d %H:%M:%S')}  cpus={os.cpu_count()}")
    with ExitStack() as stack:
        svc = stack.enter_context(services())
        for note in svc.notes:
            say(note)
        env = server_env(svc)
        api_port, ref_port = free_port(), free_port()
        api_argv = [python(), "-m", "pms", "api", "--host", "127.0.0.1", "--port", str(api_port)]
        if args.profile:
            prof.unlink(missing_ok=True)
            api_argv[1:1] = ["-m", "cProfile", "-o", str(prof)]
        api = stack.enter_context(serve("api", api_argv, env, api_port, "/health/live"))
        ref_argv = [python(), "-m", "bench.reference_app", "--port", str(ref_port)]
        ref = stack.enter_context(serve("reference", ref_argv, env, ref_port, "/bare"))
        code = asyncio.run(bench(args, api, ref, svc.database_url, svc.postgres_pid))
    if args.profile:
        print_profile(prof, 35)
    say("stopped every process this bench started")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
