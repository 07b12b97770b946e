"""Channel Manager figures against the platform simulators, everything over real HTTP:

1. N properties, each mapped on every platform asked for (Airbnb: one host with N listings;
   Booking.com: N hotels of one room rate, a connection each; Expedia: N hotels in one EQC
   account, a connection each), full sync of 365 nights each; the time per platform and the
   calls per platform;
2. ARI changes at R per second for S seconds (each change reaches all platforms; sent by a
   pacer over a pool of raw keep-alive connections; the rates asked, offered and achieved are
   printed), latency from the commit in Core (the change's outbox event) and from the API's
   answer to the night's new price on each simulator (its price log): p50 and p99 per
   platform, printed with the debounce setting used, and the calls per platform the changes
   took (an agency's Booking.com or Expedia hotels are one account, flushed together);
3. webhook ingest (verify, inbox row, enqueue) throughput against the reference app's raw
   INSERT endpoint served the same way;
4. booking apply latency, from webhook receipt (the inbox row) to the committed Core booking.

    .venv/bin/python -m bench.channel_sync [--properties 1000] [--rate 50] [--seconds 60]
        [--platforms airbnb,booking_com,expedia] [--webhook-seconds 10] [--webhook-rounds 1]
        [--bookings 50]

Ingest alone, in about a minute: ``--properties 5 --rate 2 --seconds 2 --platforms airbnb
--bookings 0 --webhook-seconds 8 --webhook-rounds 3``.

Steps 3 and 4 use Airbnb's webhooks (the other two platforms are pulled).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import signal
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from bench import reference_app
from bench.bookings import print_profile
from bench.harness import (
    BENCH_DATA,
    REPO,
    Connection,
    HttpError,
    RequestMaker,
    Server,
    plain,
    process_cpu,
    python,
    request_head,
    run_load,
    say,
    serve,
    services,
    tree_cpu,
)
from pms.embedded.process import free_port, spawn, stop

WEBHOOK_SECRET = "sandbox-airbnb-webhook-secret"
PLATFORMS = ("airbnb", "booking_com", "expedia")
CHANNEL_QUEUES = ",".join(f"channel.{p},channel.{p}.inbound" for p in PLATFORMS)
# Each simulator's control prefix (its price log and limits).
CONTROL = {"airbnb": "airbnb", "booking_com": "booking", "expedia": "expedia"}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Mapped:
    """What the setup made: the staff headers, each property's rate plan, and per platform the
    remote listing of each property (the same order)."""

    h: dict[str, str]
    plans: list[str]
    listings: dict[str, list[str]]


async def connect_airbnb(
    c: httpx.AsyncClient, api: str, sandbox: str, h: dict[str, str], n: int
) -> tuple[list[str], list[str]]:
    """One host with n listings: one connection, n listings."""
    r = await c.post(f"{sandbox}/control/airbnb/hosts", json={"listings": n})
    r.raise_for_status()
    host = r.json()
    await c.put(
        f"{sandbox}/control/airbnb/accounts/{host['host_id']}/limits",
        json={"requests": 1_000_000, "window_s": 60},
    )
    await c.put(
        f"{sandbox}/control/airbnb/webhook",
        json={"url": f"{api}/api/v1/channels/airbnb/webhooks", "backoff_base_s": 0.5},
    )
    r = await c.post(
        f"{api}/api/v1/channel-connections",
        json={"platform": "airbnb", "authorization_code": host["authorization_code"]},
        headers=h,
    )
    r.raise_for_status()
    return [r.json()["id"]] * n, list(host["listings"])


async def connect_hotels(
    c: httpx.AsyncClient,
    api: str,
    sandbox: str,
    h: dict[str, str],
    n: int,
    platform: str,
    sem: asyncio.Semaphore,
) -> tuple[list[str], list[str]]:
    """Booking.com or Expedia: n hotels of one room rate, a connection per hotel."""
    prefix = CONTROL[platform]
    if platform == "booking_com":
        r = await c.post(f"{sandbox}/control/booking/hotels", json={"count": n})
        r.raise_for_status()
        hotels = r.json()
        credentials = [{"hotel_id": x["hotel_id"]} for x in hotels]
    else:
        user = f"bench-{uuid.uuid4().hex[:8]}"
        r = await c.post(f"{sandbox}/control/expedia/hotels", json={"count": n, "username": user})
        r.raise_for_status()
        hotels = r.json()["hotels"]
        credentials = [{**r.json()["credentials"], "hotel_id": x["hotel_id"]} for x in hotels]
    r = await c.put(
        f"{sandbox}/control/{prefix}/limits", json={"requests": 1_000_000, "window_s": 60}
    )
    r.raise_for_status()

    async def connect(i: int) -> str:
        async with sem:
            r = await c.post(
                f"{api}/api/v1/channel-connections",
                json={"platform": platform, "credentials": credentials[i]},
                headers=h,
            )
            r.raise_for_status()
            return str(r.json()["id"])

    connections = await asyncio.gather(*(connect(i) for i in range(n)))
    return list(connections), [x["listing_id"] for x in hotels]


async def platform_backlog(database_url: str) -> dict[str, int]:
    conn = await asyncpg.connect(plain(database_url))
    try:
        rows = await conn.fetch(
            "SELECT m.platform, count(*) AS n FROM channel_dirty d "
            "JOIN channel_mappings m ON m.id = d.mapping_id GROUP BY m.platform"
        )
    finally:
        await conn.close()
    return {r["platform"]: r["n"] for r in rows}


async def calls_per_platform(database_url: str, since: float) -> dict[str, tuple[int, int]]:
    """Per platform, since the epoch second ``since``: the platform calls that pushes made, and
    the pushes (flushes of one listing) that made them."""
    conn = await asyncpg.connect(plain(database_url))
    try:
        rows = await conn.fetch(
            "SELECT c.platform, sum(l.calls)::bigint AS calls, count(*) AS pushes "
            "FROM channel_sync_log l JOIN channel_connections c ON c.id = l.connection_id "
            "WHERE l.kind = 'push' AND l.started_at >= to_timestamp($1) GROUP BY c.platform",
            since,
        )
    finally:
        await conn.close()
    return {r["platform"]: (int(r["calls"] or 0), int(r["pushes"])) for r in rows}


async def setup(api: str, sandbox: str, database_url: str, n: int, platforms: list[str]) -> Mapped:
    async with httpx.AsyncClient(timeout=60) as c:
        r = await c.post(
            f"{api}/api/v1/auth/signup",
            json={
                "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
                "password": "bench-password-123",
                "agency_name": "Bench",
            },
        )
        r.raise_for_status()
        h = {"Authorization": f"Bearer {r.json()['access_token']}"}
        sem = asyncio.Semaphore(8)

        async def prop(i: int) -> tuple[str, str]:
            async with sem:
                r = await c.post(
                    f"{api}/api/v1/properties",
                    json={
                        "name": f"Bench {i}",
                        "timezone": "Europe/Berlin",
                        "currency": "EUR",
                        "max_guests": 4,
                    },
                    headers=h,
                )
                r.raise_for_status()
                pid = r.json()["id"]
                r = await c.post(
                    f"{api}/api/v1/properties/{pid}/rate-plans",
                    json={"name": "Standard", "base_price_minor": 10000},
                    headers=h,
                )
                r.raise_for_status()
                return pid, r.json()["id"]

        made = await asyncio.gather(*(prop(i) for i in range(n)))
        since = time.time()
        t0 = time.monotonic()
        listings: dict[str, list[str]] = {}
        for platform in platforms:
            if platform == "airbnb":
                connections, remote = await connect_airbnb(c, api, sandbox, h, n)
            else:
                connections, remote = await connect_hotels(c, api, sandbox, h, n, platform, sem)
            listings[platform] = remote

            async def mapping(i: int, connections: list[str], remote: list[str]) -> None:
                async with sem:
                    r = await c.post(
                        f"{api}/api/v1/channel-connections/{connections[i]}/mappings",
                        json={"remote_listing_id": remote[i], "property_id": made[i][0]},
                        headers=h,
                    )
                    r.raise_for_status()

            await asyncio.gather(*(mapping(i, connections, remote) for i in range(n)))
        say(
            f"  {len(platforms)} platforms x {n} listings connected and mapped in "
            f"{time.monotonic() - t0:.1f} s"
        )
        done: dict[str, float] = {}
        while len(done) < len(platforms):
            backlog = await platform_backlog(database_url)
            for platform in platforms:
                if platform not in done and not backlog.get(platform):
                    done[platform] = time.monotonic() - t0
            if time.monotonic() - t0 > 1800:
                raise TimeoutError("the full sync did not finish in 30 minutes")
            await asyncio.sleep(1)  # polling PostgreSQL; nothing to be notified by
        calls = await calls_per_platform(database_url, since)
        for platform in platforms:
            total, pushes = calls.get(platform, (0, 0))
            say(
                f"full sync {platform}: {n} listings x 365 nights done {done[platform]:.1f} s "
                f"after the first connection (mapping requests included); {total} calls "
                f"({total / n:.1f} per listing) in {pushes} pushes"
            )
        return Mapped(h, [m[1] for m in made], listings)


@dataclass
class AriRun:
    made: int
    offered_rate: float  # requests sent per second within the window
    achieved_rate: float  # changes answered 2xx per second, first send to last answer
    answer: list[float]  # the API's answer time per change (s)
    failed: Counter[str]
    # per platform: from the client receiving the API's answer, and from the change's outbox
    # event (written in the commit)
    from_answer: dict[str, list[float]]
    from_commit: dict[str, list[float]]
    calls: dict[str, tuple[int, int]]
    # CPU seconds per process group (the API, PostgreSQL, the relay, the workers, the
    # simulators, this client) from the first change sent until every change was seen
    cpu: dict[str, float]


async def ari_latency(
    api: str,
    sandbox: str,
    database_url: str,
    m: Mapped,
    rate: float,
    seconds: float,
    clients: int,
    cpu: Callable[[], dict[str, float]],
) -> AriRun:
    """Changes at ``rate`` per second for ``seconds``: a pacer hands change k out at its time
    to ``clients`` keep-alive connections (raw HTTP/1.1, cheap for the client), each sending
    its next change as soon as the previous answer is in. If every connection is waiting for
    the API, changes queue and the rate offered falls below the rate asked: both are printed,
    with the rate achieved (answered)."""
    platforms = list(m.listings)
    # per platform: (listing, night, price) → when the client had the API's answer
    committed: dict[str, dict[tuple[str, str, str], float]] = {p: {} for p in platforms}
    plan_of = {p: dict(zip(m.listings[p], m.plans, strict=True)) for p in platforms}
    tomorrow = datetime.now(UTC).date() + timedelta(days=2)
    since_seq: dict[str, int] = {}
    port = int(api.rsplit(":", 1)[1])
    heads = {
        plan: request_head(
            "PUT",
            f"/api/v1/rate-plans/{plan}/days",
            port,
            {"content-type": "application/json", "authorization": m.h["Authorization"]},
        )
        for plan in m.plans
    }
    sent: list[float] = []
    answer: list[float] = []
    failed: Counter[str] = Counter()
    queue: asyncio.Queue[int | None] = asyncio.Queue()

    async def client() -> None:
        conn = Connection("127.0.0.1", port)
        try:
            while (k := await queue.get()) is not None:
                i = k % len(m.plans)
                night = tomorrow + timedelta(days=(k // len(m.plans)) % 300)
                price = 20000 + k
                body = json.dumps(
                    {
                        "ranges": [
                            {
                                "start": night.isoformat(),
                                "end": (night + timedelta(days=1)).isoformat(),
                                "price_minor": price,
                            }
                        ]
                    }
                ).encode()
                t = time.time()
                sent.append(t)
                try:
                    status, _ = await conn.request(heads[m.plans[i]], body)
                except (HttpError, OSError) as exc:
                    failed[type(exc).__name__] += 1
                    await conn.close()
                    continue
                at = time.time()
                if status != 200:
                    failed[str(status)] += 1
                    continue
                answer.append(at - t)
                for p in platforms:
                    committed[p][(m.listings[p][i], night.isoformat(), f"{price / 100:.2f}")] = at
        finally:
            await conn.close()

    async with httpx.AsyncClient(timeout=60) as c:
        for p in platforms:
            r = await c.get(f"{sandbox}/control/{CONTROL[p]}/price-log")
            since_seq[p] = max((e["seq"] for e in r.json()), default=0)
        cpu_before = cpu()
        begun = time.time()
        senders = [asyncio.create_task(client()) for _ in range(clients)]
        start = time.monotonic()
        k = 0
        while time.monotonic() - start < seconds:
            queue.put_nowait(k)
            k += 1
            await asyncio.sleep(max(0.0, start + k / rate - time.monotonic()))  # pacing
        for _ in senders:
            queue.put_nowait(None)
        await asyncio.gather(*senders)
        ended = time.time()
        seen: dict[str, dict[tuple[str, str, str], float]] = {p: {} for p in platforms}
        deadline = time.monotonic() + 120
        while (
            any(len(seen[p]) < len(committed[p]) for p in platforms) and time.monotonic() < deadline
        ):
            for p in platforms:
                r = await c.get(
                    f"{sandbox}/control/{CONTROL[p]}/price-log", params={"since": since_seq[p]}
                )
                for e in r.json():
                    since_seq[p] = max(since_seq[p], e["seq"])
                    key = (e["listing_id"], e["date"], e["price"])
                    if key in committed[p] and key not in seen[p]:
                        seen[p][key] = e["at"]
            await asyncio.sleep(0.5)
        cpu_after = cpu()
    used = {who: cpu_after[who] - cpu_before[who] for who in cpu_after}
    made = len(committed[platforms[0]])
    # The commit's time from PostgreSQL: the ARI change's outbox event (same transaction; its
    # created_at is the transaction's start, a few milliseconds before the commit).
    conn = await asyncpg.connect(plain(database_url))
    try:
        rows = await conn.fetch(
            "SELECT payload->>'rate_plan_id' AS plan, payload->>'start' AS night, "
            "extract(epoch FROM created_at)::float8 AS at FROM outbox_events "
            "WHERE event_type = 'ari.changed' AND created_at >= to_timestamp($1)",
            begun,
        )
    finally:
        await conn.close()
    event_at = {(r["plan"], r["night"]): r["at"] for r in rows}
    from_commit = {
        p: [
            seen[p][k] - event_at[(plan_of[p][k[0]], k[1])]
            for k in seen[p]
            if (plan_of[p][k[0]], k[1]) in event_at
        ]
        for p in platforms
    }
    from_answer = {p: [seen[p][k] - committed[p][k] for k in seen[p]] for p in platforms}
    for p in platforms:
        slow = sorted(committed[p][k] - begun for k in seen[p] if seen[p][k] - committed[p][k] > 2)
        if slow:
            say(
                f"  {p}: {len(slow)} changes over 2 s, answered {slow[0]:.1f} to {slow[-1]:.1f} s "
                "into the phase"
            )
    calls = await calls_per_platform(database_url, begun)
    offered = sum(t <= begun + seconds for t in sent) / seconds
    achieved = made / (ended - begun)
    say(
        f"ARI changes: {rate:g}/s asked, {offered:.1f}/s offered ({len(sent)} sent by {clients} "
        f"connections), {achieved:.1f}/s achieved ({made} answered 2xx in {ended - begun:.1f} s"
        f"{', failed: ' + str(dict(failed)) if failed else ''}); the API's answer p50 "
        f"{pct(answer, 0.5):.3f} s, p99 {pct(answer, 0.99):.3f} s; each change to "
        f"{len(platforms)} platforms"
    )
    for p in platforms:
        say(
            f"  {p}: {len(seen[p])} seen on the simulator, {len(from_commit[p])} matched to "
            "their commit"
        )
    say(
        "  CPU per change (ms, until every change was seen): "
        + ", ".join(f"{who} {sec / max(made, 1) * 1000:.2f}" for who, sec in used.items())
        + f"; load average {os.getloadavg()[0]:.1f}"
    )
    return AriRun(made, offered, achieved, answer, failed, from_answer, from_commit, calls, used)


async def drained(database_url: str, count_sql: str, within: float = 600) -> None:
    """Wait until the backlog a phase left behind is worked off, so it does not burden the
    next measurement."""
    t0 = time.monotonic()
    conn = await asyncpg.connect(plain(database_url))
    try:
        while time.monotonic() - t0 < within:
            if not await conn.fetchval(count_sql):
                break
            await asyncio.sleep(1)  # polling PostgreSQL; nothing to be notified by
    finally:
        await conn.close()
    say(f"  (backlog worked off in {time.monotonic() - t0:.1f} s)")


def webhook_maker(port: int) -> RequestMaker:
    run = uuid.uuid4().hex[:6]

    def make(c: int, k: int) -> tuple[bytes, bytes]:
        event_id = f"bench-{run}-{c}-{k}"
        body = json.dumps(
            {
                "event_id": event_id,
                "event_type": "bench.ping",
                "created_at": "2030-01-01T00:00:00+00:00",
                "data": {},
            }
        ).encode()
        ts = int(time.time())
        sig = hmac.new(WEBHOOK_SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256)
        head = request_head(
            "POST",
            "/api/v1/channels/airbnb/webhooks",
            port,
            {
                "content-type": "application/json",
                "x-airbnb-timestamp": str(ts),
                "x-airbnb-signature": f"v1={sig.hexdigest()}",
                "x-airbnb-event-id": event_id,
            },
        )
        return head, body

    return make


def insert_maker(port: int) -> RequestMaker:
    head = request_head("POST", "/insert", port, {"content-type": "application/json"})

    def make(c: int, k: int) -> tuple[bytes, bytes]:
        return head, json.dumps({"payload": f"{c}-{k}"}).encode()

    return make


async def booking_apply(
    sandbox: str, database_url: str, listings: list[str], n: int
) -> list[float]:
    codes = []
    async with httpx.AsyncClient(timeout=60) as c:
        base = datetime.now(UTC).date() + timedelta(days=320)
        for b in range(n):
            arrival = base + timedelta(days=3 * (b // len(listings)))
            r = await c.post(
                f"{sandbox}/control/airbnb/bookings",
                json={
                    "listing_id": listings[b % len(listings)],
                    "arrival": arrival.isoformat(),
                    "departure": (arrival + timedelta(days=2)).isoformat(),
                },
            )
            r.raise_for_status()
            codes.append(r.json()["id"])
    conn = await asyncpg.connect(plain(database_url))
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            rows = await conn.fetch(
                "SELECT extract(epoch FROM b.created_at - i.received_at) AS s "
                "FROM channel_inbox i JOIN channel_reservations r "
                "ON r.code = (i.body::jsonb -> 'data' -> 'reservation' ->> 'confirmation_code') "
                "JOIN bookings b ON b.id = r.booking_id "
                "WHERE i.event_type = 'reservation.created' AND r.code = ANY($1::text[])",
                codes,
            )
            if len(rows) >= n:
                break
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    return [float(r["s"]) for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--properties", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=50.0)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--debounce", type=float, default=0.2)
    ap.add_argument("--webhook-seconds", type=float, default=10.0)
    ap.add_argument(
        "--webhook-rounds",
        type=int,
        default=1,
        help="ingest and raw INSERT measured this many times, alternately",
    )
    ap.add_argument(
        "--bookings",
        type=int,
        default=50,
        help="guest bookings for the apply latency (0: skip it and the ingest backlog's apply)",
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--clients", type=int, default=8, help="keep-alive connections sending the ARI changes"
    )
    ap.add_argument("--api-workers", type=int, default=2, help="processes of the API")
    ap.add_argument(
        "--channel-workers",
        choices=("per-platform", "shared"),
        default="per-platform",
        help="a worker (--workers processes) per platform's queues, or one for all",
    )
    ap.add_argument("--log-level", default="WARNING", help="of the API, relay and workers")
    ap.add_argument(
        "--profile",
        default="",
        help="api (with --api-workers 1), relay, worker or <platform>-worker: run it under "
        "cProfile (a worker as one process, Celery's solo pool, so its tasks are profiled too) "
        "and print the hot spots",
    )
    ap.add_argument(
        "--platforms",
        default=",".join(PLATFORMS),
        help="comma-separated, of " + ", ".join(PLATFORMS),
    )
    args = ap.parse_args()
    platforms = [p for p in args.platforms.split(",") if p]
    if not platforms or not set(platforms) <= set(PLATFORMS):
        ap.error(f"--platforms: one or more of {', '.join(PLATFORMS)}")
    if args.profile == "api" and args.api_workers != 1:
        ap.error("--profile api profiles one process: use it with --api-workers 1")
    with services() as svc, ExitStack() as stack:
        for note in svc.notes:
            say(note)
        sp, ap_port, rp = free_port(), free_port(), free_port()
        prof = BENCH_DATA / f"channel-{args.profile}.prof"
        prof.unlink(missing_ok=True)
        sandbox = f"http://127.0.0.1:{sp}"
        env = {
            **os.environ,
            "DATABASE_URL": svc.database_url,
            "REDIS_URL": svc.redis_url,
            "LOG_LEVEL": args.log_level,
            "DATA_DIR": str(BENCH_DATA),
            "AIRBNB_API_BASE": f"{sandbox}/airbnb",
            "CHANNEL_DEBOUNCE_SECONDS": str(args.debounce),
            "AIRBNB_REQUESTS_PER_SECOND": "2000",
            "AIRBNB_BURST": "2000",
            "BOOKING_API_BASE": f"{sandbox}/booking",
            "BOOKING_AUTH_URL": f"{sandbox}/booking/token-based-authentication/exchange",
            "BOOKING_REQUESTS_PER_SECOND": "2000",
            "BOOKING_BURST": "2000",
            "EXPEDIA_API_BASE": f"{sandbox}/expedia",
            "EXPEDIA_REQUESTS_PER_SECOND": "2000",
            "EXPEDIA_BURST": "2000",
        }
        py = python()
        sim = stack.enter_context(
            serve("sandbox", [py, "-m", "pms", "sandbox", "--port", str(sp)], env, sp, "/health")
        )
        api = stack.enter_context(
            serve(
                "api",
                [
                    *(py, *(("-m", "cProfile", "-o", str(prof)) if args.profile == "api" else ())),
                    *("-m", "pms", "api", "--host", "127.0.0.1", "--port", str(ap_port)),
                    *("--workers", str(args.api_workers)),
                ],
                env,
                ap_port,
                "/health/live",
            )
        )
        ref = stack.enter_context(
            serve(
                "reference",
                # Served the same way as the API: as many processes.
                [
                    *(py, "-m", "bench.reference_app", "--port", str(rp)),
                    *("--workers", str(args.api_workers)),
                ],
                env,
                rp,
                "/bare",
            )
        )
        logs = BENCH_DATA / "logs"
        procs = {}
        workers = str(args.workers)
        # The platform's queues have their own worker, so pushes and inbound messages never
        # wait behind the outbox dispatch and other default-queue work (as in production); by
        # default one per platform, since a flush of a busy account holds a process while
        # changes keep arriving (up to its time budget): with one worker for all platforms, a
        # third account waits for one of two processes.
        if args.channel_workers == "shared":
            channel = [("channel-worker", CHANNEL_QUEUES)]
        else:
            channel = [(f"{p}-worker", f"channel.{p},channel.{p}.inbound") for p in platforms]
        for name, argv in (
            ("relay", [py, "-m", "pms", "relay"]),
            (
                "worker",
                [py, "-m", "pms", "worker", "--concurrency", workers, "--queues", "default"],
            ),
            *(
                (w, [py, "-m", "pms", "worker", "--concurrency", workers, "--queues", queues])
                for w, queues in channel
            ),
        ):
            if name == args.profile:
                argv = [py, "-m", "cProfile", "-o", str(prof), *argv[1:]]
                if name != "relay":
                    argv = [a for a in argv if a not in ("--concurrency", workers)]
                    argv += ["--concurrency", "1", "--pool", "solo"]
            proc = spawn(argv, log_path=logs / f"{name}.log", env=env, cwd=REPO)
            procs[name] = proc
            # SIGINT: the relay stops and Celery shuts down warm, so cProfile writes its file.
            how = signal.SIGINT if name == args.profile else signal.SIGTERM
            stack.callback(stop, proc, how, 30)

        async def go() -> None:
            conn = await asyncpg.connect(plain(svc.database_url))
            try:
                await conn.execute(reference_app.CREATE_TABLE)
            finally:
                await conn.close()
            m = await setup(api.base, sandbox, svc.database_url, args.properties, platforms)

            def ari_cpu() -> dict[str, float]:
                out = {"api": tree_cpu(api.proc.pid)}
                if svc.postgres_pid is not None:
                    out["postgres"] = tree_cpu(svc.postgres_pid)
                for name, proc in procs.items():
                    out[name] = tree_cpu(proc.pid)
                out["simulators"] = tree_cpu(sim.proc.pid)
                out["bench client"] = process_cpu(os.getpid())
                return out

            ari = await ari_latency(
                api.base,
                sandbox,
                svc.database_url,
                m,
                args.rate,
                args.seconds,
                args.clients,
                ari_cpu,
            )
            say(
                f"ARI change → simulator ({args.rate:g}/s asked, {ari.offered_rate:.1f}/s offered, "
                f"{ari.achieved_rate:.1f}/s achieved, "
                f"for {args.seconds:g} s, debounce {args.debounce:g} s, {args.workers} worker "
                f"processes on the default queue + {args.workers} on the platform queues"
                f"{' of all' if args.channel_workers == 'shared' else ' of each platform'}"
                f", {args.api_workers} API process(es)):"
            )
            for p in platforms:
                lat, answered = ari.from_commit[p], ari.from_answer[p]
                total, pushes = ari.calls.get(p, (0, 0))
                say(
                    f"  {p}: from the commit p50 {pct(lat, 0.5):.3f} s, p99 "
                    f"{pct(lat, 0.99):.3f} s, max {max(lat, default=float('nan')):.3f} s "
                    f"(n={len(lat)}; target p99 ≤ 2 s); from the answer p50 "
                    f"{pct(answered, 0.5):.3f} s, p99 {pct(answered, 0.99):.3f} s; "
                    f"{total} calls in {pushes} pushes ({total / max(ari.made, 1):.2f} per change)"
                )
            await drained(svc.database_url, "SELECT count(*) FROM channel_dirty")
            # Ingest alone: the relay is paused meanwhile, so the workers applying the messages
            # do not share the two cores with it (applying is measured in step 4).
            procs["relay"].send_signal(signal.SIGSTOP)

            def probe(server: Server) -> Callable[[], dict[str, float]]:
                # CPU of the server's processes (uvicorn's supervisor and its workers) and of
                # PostgreSQL (the postmaster and its backends), per request in the window.
                def cpu() -> dict[str, float]:
                    out = {server.name: tree_cpu(server.proc.pid)}
                    if svc.postgres_pid is not None:
                        out["postgres"] = tree_cpu(svc.postgres_pid)
                    return out

                return cpu

            for _ in range(args.webhook_rounds):
                hook = await run_load(
                    "webhook ingest",
                    api.port,
                    webhook_maker(api.port),
                    clients=20,
                    warmup=2,
                    seconds=args.webhook_seconds,
                    expected=200,
                    probe=probe(api),
                )
                raw = await run_load(
                    "raw INSERT",
                    ref.port,
                    insert_maker(ref.port),
                    clients=20,
                    warmup=2,
                    seconds=args.webhook_seconds,
                    expected=201,
                    probe=probe(ref),
                )
                say(hook.line())
                say(hook.cpu_line())
                say(raw.line())
                say(raw.cpu_line())
                ratio = 100 * hook.rps / raw.rps
                say(
                    f"webhook ingest = {ratio:.1f} % of the raw INSERT (target ≥ 50 %); "
                    f"load average {os.getloadavg()[0]:.1f}"
                )
            procs["relay"].send_signal(signal.SIGCONT)
            if "airbnb" not in platforms or args.bookings <= 0:
                return
            await drained(
                svc.database_url,
                "SELECT count(*) FROM channel_inbox WHERE status IN ('pending', 'failed')",
            )
            apply = await booking_apply(
                sandbox, svc.database_url, m.listings["airbnb"], args.bookings
            )
            say(
                f"booking apply (webhook receipt → committed Core booking): p50 "
                f"{pct(apply, 0.5):.3f} s, p99 {pct(apply, 0.99):.3f} s (n={len(apply)}); "
                f"mean {statistics.mean(apply) if apply else float('nan'):.3f} s"
            )

        asyncio.run(go())
    if args.profile:
        print_profile(prof, 40, args.profile)


if __name__ == "__main__":
    main()
