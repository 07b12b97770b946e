"""Booking creation and the bulk calendar against a raw-asyncpg/bare-JSON reference.

    .venv/bin/python -m bench.bookings                     # 1,000 properties, 100,000 bookings
    .venv/bin/python -m bench.bookings --properties 200 --bookings 5000 --seconds 5   # quick

Starts embedded PostgreSQL and Redis (unless DATABASE_URL/REDIS_URL are set), a fresh migrated
database, the app (``pms api``) and the reference app (``bench/reference_app.py``) as uvicorn
subprocesses, loads the data set with COPY, and drives each endpoint with keep-alive clients
from this process. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import reference_app
from bench.harness import (
    BENCH_DATA,
    LoadResult,
    RequestMaker,
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

BOOKING_TARGET = 0.35  # booking creation throughput ≥ 35 % of raw INSERT throughput
CALENDAR_TARGET = 5.0  # calendar p99 ≤ 5 x bare p99
CALENDAR_PROPERTIES = 200
CALENDAR_DAYS = 31
LOAD_FROM = date(2026, 6, 1)  # the loaded stays run from here on (~5.5 days each incl. gaps)
MEAN_STAY_SPAN = 5.5
FREE_FROM = date(2045, 1, 1)  # bench bookings go here: nothing is loaded this far out
PASSWORD = "bench-password-123456"


@dataclass
class Dataset:
    agency_id: uuid.UUID
    token: str
    property_ids: list[uuid.UUID]
    guest_ids: list[uuid.UUID]
    calendar_start: date


async def signup(base: str) -> tuple[uuid.UUID, str]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        r = await client.post(
            "/api/v1/auth/signup",
            json={
                "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
                "password": PASSWORD,
                "agency_name": "Bench Holidays",
            },
        )
        if r.status_code != 201:
            raise RuntimeError(f"signup failed: {r.status_code} {r.text}")
        body = r.json()
        return uuid.UUID(body["agency_id"]), str(body["access_token"])


def stays(rng: random.Random, n: int) -> list[tuple[date, date]]:
    """``n`` non-overlapping stays one after another: 1-7 nights, 0-3 free nights between."""
    out = []
    day = LOAD_FROM + timedelta(days=rng.randint(0, 6))
    for _ in range(n):
        nights = rng.randint(1, 7)
        out.append((day, day + timedelta(days=nights)))
        day += timedelta(days=nights + rng.randint(0, 3))
    return out


async def load(
    owner_url: str, agency_id: uuid.UUID, n_properties: int, n_bookings: int, seed: int
) -> tuple[list[uuid.UUID], list[uuid.UUID], dict[str, float]]:
    """Properties, guests and bookings by COPY as the database owner. The row-level security
    policies still apply (they are forced), so the connection declares the agency; the
    triggers fill occupied_ranges and the exclusion constraint checks every row."""
    rng = random.Random(seed)
    timings: dict[str, float] = {}
    conn = await asyncpg.connect(plain(owner_url))
    try:
        await conn.execute("SELECT set_config('app.agency_id', $1, false)", str(agency_id))
        await conn.execute(reference_app.CREATE_TABLE)

        t = time.perf_counter()
        property_ids = [uuid.uuid4() for _ in range(n_properties)]
        await conn.copy_records_to_table(
            "properties",
            columns=["id", "agency_id", "name", "timezone", "currency", "max_guests", "bedrooms"],
            records=[
                (pid, agency_id, f"Bench {i:05d}", "Europe/Berlin", "EUR", 6, 2)
                for i, pid in enumerate(property_ids)
            ],
        )
        timings["properties"] = time.perf_counter() - t

        t = time.perf_counter()
        n_guests = max(1, n_bookings // 10)
        guest_ids = [uuid.uuid4() for _ in range(n_guests)]
        await conn.copy_records_to_table(
            "guests",
            columns=["id", "agency_id", "email", "first_name", "last_name", "language"],
            records=[
                (gid, agency_id, f"guest{i}@bench.example.com", "Gast", f"Nummer{i}", "de")
                for i, gid in enumerate(guest_ids)
            ],
        )
        timings["guests"] = time.perf_counter() - t

        t = time.perf_counter()
        per_property, extra = divmod(n_bookings, n_properties)
        records: list[tuple[Any, ...]] = []
        for i, pid in enumerate(property_ids):
            for check_in, check_out in stays(rng, per_property + (1 if i < extra else 0)):
                roll = rng.random()
                status = "cancelled" if roll < 0.05 else "requested" if roll < 0.08 else "confirmed"
                records.append(
                    (
                        uuid.uuid4(),
                        agency_id,
                        pid,
                        guest_ids[rng.randrange(n_guests)],
                        f"BENCH-{len(records) + 1:07d}",
                        status,
                        rng.choice(("manual", "direct", "airbnb", "booking_com")),
                        check_in,
                        check_out,
                        rng.randint(1, 4),
                        rng.randint(0, 2),
                        0,
                        0,
                        1,
                    )
                )
        await conn.copy_records_to_table(
            "bookings",
            columns=[
                "id",
                "agency_id",
                "property_id",
                "guest_id",
                "reference",
                "status",
                "source",
                "check_in",
                "check_out",
                "adults",
                "children",
                "infants",
                "pets",
                "version",
            ],
            records=records,
        )
        timings["bookings (+ occupied_ranges by trigger)"] = time.perf_counter() - t

        t = time.perf_counter()
        await conn.execute("ANALYZE")
        timings["analyze"] = time.perf_counter() - t
        ranges = await conn.fetchval("SELECT count(*) FROM occupied_ranges")
        if ranges != len(records):
            raise RuntimeError(f"occupied_ranges has {ranges} rows for {len(records)} bookings")
    finally:
        await conn.close()
    return property_ids, guest_ids, timings


def booking_maker(ds: Dataset, port: int, clients: int) -> RequestMaker:
    """Client ``c``'s ``k``-th request takes slot ``k * clients + c``: a distinct (property,
    3-day window) pair per slot, far beyond the loaded stays, so every request is on free dates
    and no two requests (across clients, warm-up included) ever collide."""
    head = request_head(
        "POST",
        "/api/v1/bookings",
        port,
        {"authorization": f"Bearer {ds.token}", "content-type": "application/json"},
    )
    n = len(ds.property_ids)

    def make(c: int, k: int) -> tuple[bytes, bytes]:
        slot = k * clients + c
        check_in = FREE_FROM + timedelta(days=3 * (slot // n))
        body = {
            "property_id": str(ds.property_ids[slot % n]),
            "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=2)).isoformat(),
            "adults": 2,
            "guest_id": str(ds.guest_ids[slot % len(ds.guest_ids)]),
        }
        return head, json.dumps(body).encode()

    return make


def calendar_path(ds: Dataset) -> str:
    ids = ds.property_ids[:CALENDAR_PROPERTIES]
    end = ds.calendar_start + timedelta(days=CALENDAR_DAYS)
    query = "&".join(f"property_ids={pid}" for pid in ids)
    return f"/api/v1/calendar?start={ds.calendar_start}&end={end}&{query}"


def fixed_maker(head: bytes, body: bytes = b"") -> RequestMaker:
    def make(_: int, __: int) -> tuple[bytes, bytes]:
        return head, body

    return make


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


async def bench(
    args: argparse.Namespace, api: Server, ref: Server, owner_url: str, postgres_pid: int | None
) -> int:
    api_port, ref_port = api.port, ref.port
    agency_id, token = await signup(f"http://127.0.0.1:{api_port}")
    say(f"agency signed up through the API: {agency_id}")
    t = time.perf_counter()
    property_ids, guest_ids, timings = await load(
        owner_url, agency_id, args.properties, args.bookings, args.seed
    )
    total = time.perf_counter() - t
    say(
        f"loaded {args.properties:,} properties, {max(1, args.bookings // 10):,} guests, "
        f"{args.bookings:,} bookings in {total:.1f} s"
    )
    for what, seconds in timings.items():
        say(f"  {what:<40} {seconds:6.2f} s")
    # The calendar looks at the middle of the loaded stays (2027-03 with 100 per property).
    per_property = args.bookings / args.properties
    calendar_start = LOAD_FROM + timedelta(days=int(per_property * MEAN_STAY_SPAN / 2))
    ds = Dataset(agency_id, token, property_ids, guest_ids, calendar_start)

    auth = {"authorization": f"Bearer {token}"}
    cal = calendar_path(ds)
    n_cal = min(CALENDAR_PROPERTIES, len(property_ids))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=60) as client:
        r = await client.get(cal, headers=auth)
        if r.status_code != 200:
            raise RuntimeError(f"calendar: {r.status_code} {r.text[:500]}")
        days = [d for p in r.json()["properties"] for d in p["days"]]
        booked = sum(1 for d in days if d["status"] != "free")
        say(
            f"calendar request: {n_cal} properties x {CALENDAR_DAYS} days from {calendar_start} "
            f"= {len(days)} days, "
            f"{booked} not free, {len(r.content) / 1024:.0f} KiB, URL {len(cal):,} bytes"
        )
        one = booking_maker(ds, api_port, 1)
        _, body = one(0, 10**6)  # a slot no load client reaches
        r = await client.post(
            "/api/v1/bookings", content=body, headers=auth | {"content-type": "application/json"}
        )
        if r.status_code != 201:
            raise RuntimeError(f"booking probe: {r.status_code} {r.text[:500]}")

    c = args.clients
    common: dict[str, Any] = {"clients": c, "warmup": args.warmup, "seconds": args.seconds}
    say(
        f"\nload: {c} concurrent keep-alive clients, {args.warmup:g} s warm-up, then "
        f"{args.seconds:g} s measured per endpoint (client in this process, servers in others)"
    )
    results: dict[str, LoadResult] = {}
    plans: list[tuple[str, int, RequestMaker, int]] = [
        ("ref GET /bare", ref_port, fixed_maker(request_head("GET", "/bare", ref_port, {})), 200),
        (
            "ref POST /insert",
            ref_port,
            fixed_maker(
                request_head("POST", "/insert", ref_port, {"content-type": "application/json"}),
                booking_maker(ds, ref_port, 1)(0, 0)[1],
            ),
            201,
        ),
        ("POST /bookings", api_port, booking_maker(ds, api_port, c), 201),
        (
            "GET /calendar",
            api_port,
            fixed_maker(request_head("GET", cal, api_port, auth)),
            200,
        ),
    ]
    for name, port, make, expected in plans:
        if args.only and name.split()[-1].strip("/") not in args.only:
            continue
        server = api if port == api_port else ref

        def probe(server: Server = server) -> dict[str, float]:
            cpu = {server.name: process_cpu(server.proc.pid)}
            if postgres_pid is not None:
                cpu["postgres"] = tree_cpu(postgres_pid)
            cpu["load generator"] = time.process_time()
            return cpu

        res = await run_load(name, port, make, expected=expected, probe=probe, **common)
        results[name] = res
        say(res.line())
        say(res.cpu_line())
    if len(results) < len(plans):
        say("(--only: no ratios)")
        return 0

    bare, insert = results["ref GET /bare"], results["ref POST /insert"]
    book, calr = results["POST /bookings"], results["GET /calendar"]
    book_ratio = book.rps / insert.rps if insert.rps else 0.0
    cal_ratio = calr.p99_ms / bare.p99_ms if bare.p99_ms else float("inf")
    say("\nratios to the reference app")
    say(
        f"  booking creation: {book.rps:.1f} req/s = {book_ratio * 100:.1f} % of raw INSERT "
        f"{insert.rps:.1f} req/s   (target ≥ {BOOKING_TARGET * 100:.0f} %: "
        f"{verdict(book_ratio >= BOOKING_TARGET)})"
    )
    say(
        f"  booking p50/p99: {book.p50_ms:.1f}/{book.p99_ms:.1f} ms vs INSERT "
        f"{insert.p50_ms:.1f}/{insert.p99_ms:.1f} ms "
        f"({book.p50_ms / insert.p50_ms:.1f}x / {book.p99_ms / insert.p99_ms:.1f}x)"
    )
    say(
        f"  calendar p99: {calr.p99_ms:.1f} ms = {cal_ratio:.1f}x bare p99 {bare.p99_ms:.1f} ms   "
        f"(target ≤ {CALENDAR_TARGET:g}x: {verdict(cal_ratio <= CALENDAR_TARGET)})"
    )
    say(
        f"  calendar p50: {calr.p50_ms:.1f} ms = {calr.p50_ms / bare.p50_ms:.1f}x bare p50 "
        f"{bare.p50_ms:.1f} ms; calendar {calr.rps:.1f} req/s = "
        f"{calr.rps / bare.rps * 100:.1f} % of bare {bare.rps:.1f} req/s"
    )
    bad = book.unexpected + calr.unexpected + bare.unexpected + insert.unexpected
    if bad:
        say(f"  unexpected answers: {bad} (see the status counts above)")
    if args.single_seconds > 0:
        # Not a target: the service time of one request with nothing queued in front of it.
        say(f"\nsupplementary, 1 client ({args.single_seconds:g} s each, 1 s warm-up):")
        solo: dict[str, LoadResult] = {}
        for name, port, make, expected in plans:
            if name in ("ref GET /bare", "GET /calendar"):
                solo[name] = await run_load(
                    name,
                    port,
                    make,
                    expected=expected,
                    clients=1,
                    warmup=1.0,
                    seconds=args.single_seconds,
                )
                say(solo[name].line())
        b1, c1 = solo["ref GET /bare"], solo["GET /calendar"]
        say(
            f"  calendar p99 at 1 client: {c1.p99_ms:.1f} ms = "
            f"{c1.p99_ms / b1.p99_ms:.1f}x bare p99 {b1.p99_ms:.2f} ms"
        )
    ok = book_ratio >= BOOKING_TARGET and cal_ratio <= CALENDAR_TARGET and not bad
    return 0 if ok else 1


def _package(filename: str, func: str) -> str:
    if filename == "~":  # a built-in: name it by the extension module it belongs to
        for name in ("pydantic_core", "asyncpg", "sqlalchemy", "greenlet", "uvloop", "argon2"):
            if name in func:
                return name
        return "builtins"
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/src/pms/" in filename:
        return "pms." + filename.split("/src/pms/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if filename.startswith("<frozen"):
        return "imports"
    return "stdlib"


def print_profile(path: Path, limit: int, what: str = "the API server") -> None:
    """Own (not cumulative) CPU time by package, then the hottest functions. Coroutine
    "calls" in cProfile are resumptions, so ncalls of async functions overcount."""
    import pstats

    if not path.exists():
        say(f"(no profile written at {path})")
        return
    stats = pstats.Stats(str(path))
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    by_package: dict[str, float] = {}
    idle = startup = 0.0
    for (filename, _, func), (_, _, tottime, _, _) in raw.items():
        if filename.endswith("asyncio/runners.py") and func == "run":
            idle += tottime  # the event loop's own frame: mostly waiting in epoll
            continue
        if func in ("<built-in method builtins.compile>", "<built-in method builtins.exec>"):
            startup += tottime
            continue
        pkg = _package(filename, func)
        by_package[pkg] = by_package.get(pkg, 0.0) + tottime
    busy = sum(by_package.values())
    say(f"\nprofile of {what} ({path})")
    say(f"  event loop idle/uninstrumented {idle:.2f} s, compile/exec (startup) {startup:.2f} s")
    say(f"  own CPU time by package (total {busy:.2f} s):")
    for pkg, sec in sorted(by_package.items(), key=lambda kv: -kv[1])[:20]:
        say(f"    {pkg:<28} {sec:7.2f} s  {sec / busy * 100:5.1f} %")
    stats.stream = sys.stdout  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(limit)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--properties", type=int, default=1000)
    p.add_argument("--bookings", type=int, default=100_000)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=15.0, help="measured time per endpoint")
    p.add_argument("--warmup", type=float, default=3.0, help="uncounted time per endpoint")
    p.add_argument("--seed", type=int, default=4)
    p.add_argument(
        "--single-seconds",
        type=float,
        default=5.0,
        help="also time bare and calendar with 1 client (0: skip)",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="run the API server under cProfile (slows it down) and print the hot spots",
    )
    p.add_argument(
        "--only",
        type=lambda v: set(v.split(",")),
        default=set(),
        help="comma-separated subset of bare,insert,bookings,calendar (for profiling)",
    )
    args = p.parse_args()
    if args.properties < 1 or args.bookings < 0:
        p.error("need at least one property")

    def on_term(signum: int, _: object) -> None:
        raise SystemExit(128 + signum)  # unwind: stop the servers and services, drop the database

    signal.signal(signal.SIGTERM, on_term)
    say(f"bench.bookings  {time.strftime('%Y-%m-%d %H:%M:%S')}  cpus={os.cpu_count()}")
    prof = BENCH_DATA / "api.prof"
    with ExitStack() as stack:
        t = time.perf_counter()
        svc = stack.enter_context(services())
        for note in svc.notes:
            say(note)
        say(f"services up and database migrated in {time.perf_counter() - t:.1f} s")
        env = server_env(svc)
        api_port, ref_port = free_port(), free_port()
        api_argv = [python(), "-m", "pms", "api", "--host", "127.0.0.1", "--port", str(api_port)]
        if args.profile:
            prof.unlink(missing_ok=True)
            api_argv[1:1] = ["-m", "cProfile", "-o", str(prof)]
        api = stack.enter_context(serve("api", api_argv, env, api_port, "/health/live"))
        ref_argv = [python(), "-m", "bench.reference_app", "--port", str(ref_port)]
        ref = stack.enter_context(serve("reference", ref_argv, env, ref_port, "/bare"))
        say(
            "servers: `pms api` (uvicorn, factory pms.api.app:create_app, 1 worker) on "
            f"{api_port}; bench.reference_app (same uvicorn arguments) on {ref_port}; "
            "LOG_LEVEL=WARNING"
        )
        code = asyncio.run(bench(args, api, ref, svc.database_url, svc.postgres_pid))
    if args.profile:
        print_profile(prof, 40)
    say("stopped every process this bench started")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
