"""The cold path, side by side with raw-SQL references served the same way, then again with ten
years of history: search, the calendar's range form, booking creation.

    .venv/bin/python -m bench.cold_path                  # 1,000 properties, 100,000 bookings
    .venv/bin/python -m bench.cold_path --properties 200 --bookings 5000 --seconds 4   # quick

Starts embedded PostgreSQL and Redis (unless DATABASE_URL/REDIS_URL are set), a fresh migrated
database, the app (``pms api``) and ``bench.reference_app`` (the same uvicorn arguments), each
with ``--workers`` uvicorn worker processes: one per core by default, as production runs the
API (``--workers 1`` measures a single process; ``--profile`` implies it). Loads 1,000 listed
properties with 100,000 bookings by COPY (``bench.bookings.load``), a default rate plan each
through the API (24 months of ARI rows), and 50 more agencies, each with a member, a guest and
8 properties with a default plan (4 for the app's creates, 4 for the reference's). Then, for
each phase ("base", and "history" after adding ten years of past stays to every property: 10x
the bookings, the future unchanged):

- search, at 1 and at 10 clients: a new random stay (1-14 nights in the ARI window) and party
  each request, never repeated; the reference answers the same stays (bookable properties and
  nightly sums, one query over the ARI rows);
- calendar, 10 clients: ``GET /api/v1/calendar/ranges`` for 200 properties x 31 days with a new
  window each request, against the reference's raw-SQL ranges; the per-day form is measured
  on the same windows too;
- booking creation, 50 clients, each its own agency, on free dates inside the ARI window,
  against the reference writing the same rows in one transaction.

No answer is cached anywhere on these paths; every request asks something new. The lines of
a comparison run in turn, in ``--rounds`` slices (2 by default: reference, app, app,
reference), so that a change in the machine's speed meanwhile weighs on both alike. Prints each
figure, the ratios to the references and the growth from base to history.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import signal
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx

from bench.bookings import PASSWORD, load, print_profile, signup
from bench.harness import (
    BENCH_DATA,
    LoadResult,
    RequestMaker,
    Server,
    plain,
    python,
    request_head,
    run_load,
    say,
    serve,
    server_env,
    services,
    tree_cpu,
)
from bench.search import add_plans, list_properties
from pms.embedded.process import free_port

P99_TARGET = 3.0
BOOKING_RPS_TARGET = 0.30
GROWTH_TARGET = 1.5
CAL_PROPERTIES = 200
CAL_DAYS = 31
BOOKING_AGENCIES = 50
PER_AGENCY = 4  # properties for the app's creates (and as many for the reference's)
HISTORY_YEARS = 10
ALL = frozenset({"search", "calendar", "booking"})


@dataclass(frozen=True)
class Line:
    """One line of a comparison: what is asked of which server, by how many clients."""

    key: str
    label: str
    server: Server
    make: RequestMaker
    clients: int
    expected: int


@dataclass
class BookingAgency:
    agency_id: str
    user_id: str
    token: str
    guest_id: str
    app_properties: list[tuple[str, str]]  # (property id, default plan id)
    ref_properties: list[tuple[str, str]]


@dataclass
class World:
    agency_id: uuid.UUID
    token: str
    slug: str
    property_ids: list[uuid.UUID]
    calendar_ids: list[uuid.UUID]
    today: date
    ari_end: date
    busy_from: date
    busy_to: date
    booking: list[BookingAgency] = field(default_factory=list)
    loaded_from: date | None = None  # the first loaded stay


async def booking_agencies(base: str, n: int, seed: int) -> list[BookingAgency]:
    """Agencies that book: each an admin, a guest, and 2 x PER_AGENCY properties with a plan."""
    rng = random.Random(seed)
    out: list[BookingAgency] = []
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:

        async def one(i: int) -> BookingAgency:
            r = await client.post(
                "/api/v1/auth/signup",
                json={
                    "email": f"booker{i}-{uuid.uuid4().hex[:6]}@example.com",
                    "password": PASSWORD,
                    "agency_name": f"Booker {i}",
                },
            )
            body = r.json()
            h = {"authorization": f"Bearer {body['access_token']}"}
            guest = await client.post(
                "/api/v1/guests",
                json={"email": f"guest{i}@example.com", "last_name": f"Gast{i}"},
                headers=h,
            )
            props: list[tuple[str, str]] = []
            for k in range(2 * PER_AGENCY):
                p = await client.post(
                    "/api/v1/properties",
                    json={
                        "name": f"Booker {i} house {k}",
                        "timezone": "Europe/Berlin",
                        "currency": "EUR",
                        "max_guests": 4,
                    },
                    headers=h,
                )
                plan = await client.post(
                    f"/api/v1/properties/{p.json()['id']}/rate-plans",
                    json={"name": "Standard", "base_price_minor": rng.randrange(8000, 20000, 100)},
                    headers=h,
                )
                if plan.status_code != 201:
                    raise RuntimeError(f"plan: {plan.status_code} {plan.text[:300]}")
                props.append((p.json()["id"], plan.json()["id"]))
            return BookingAgency(
                body["agency_id"],
                body["user_id"],
                body["access_token"],
                guest.json()["id"],
                props[:PER_AGENCY],
                props[PER_AGENCY:],
            )

        for start in range(0, n, 5):
            out += await asyncio.gather(*(one(i) for i in range(start, min(n, start + 5))))
    return out


async def add_history(owner_url: str, w: World, years: int, seed: int) -> tuple[int, float]:
    """Ten years of past stays (checked out, some cancelled) for every property of every agency
    here, ending before the first loaded stay: as many per year as the loaded future has."""
    rng = random.Random(seed)
    conn = await asyncpg.connect(plain(owner_url))
    t = time.perf_counter()
    total = 0
    try:
        await conn.execute("SELECT set_config('app.system', 'on', false)")
        agencies = [(w.agency_id, w.property_ids)]
        for b in w.booking:
            agencies.append(
                (
                    uuid.UUID(b.agency_id),
                    [uuid.UUID(p) for p, _ in b.app_properties + b.ref_properties],
                )
            )
        end = min(w.loaded_from or w.today, w.today) - timedelta(days=1)
        start = end - timedelta(days=365 * years)
        for agency_id, pids in agencies:
            await conn.execute("SELECT set_config('app.agency_id', $1, false)", str(agency_id))
            guest = uuid.uuid4()
            await conn.copy_records_to_table(
                "guests",
                columns=["id", "agency_id", "email", "last_name", "language"],
                records=[(guest, agency_id, f"past-{guest.hex[:8]}@example.com", "Past", "de")],
            )
            records: list[tuple[Any, ...]] = []
            for pid in pids:
                day = start + timedelta(days=rng.randint(0, 6))
                while True:
                    nights = rng.randint(1, 7)
                    if day + timedelta(days=nights) > end:
                        break
                    status = "cancelled" if rng.random() < 0.05 else "checked_out"
                    records.append(
                        (
                            uuid.uuid4(),
                            agency_id,
                            pid,
                            guest,
                            f"PAST-{total + len(records) + 1:08d}",
                            status,
                            "manual",
                            day,
                            day + timedelta(days=nights),
                            2,
                            0,
                            0,
                            0,
                            1,
                        )
                    )
                    day += timedelta(days=nights + rng.randint(0, 3))
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
            total += len(records)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return total, time.perf_counter() - t


def search_makers(
    w: World, api: Server, ref: Server, seed: int
) -> tuple[RequestMaker, RequestMaker]:
    """The same never-repeated sequence of (stay, party) for the app and the reference."""
    seen: set[tuple[int, int, int]] = set()
    rng = random.Random(seed)
    span = (w.ari_end - w.today).days - 20

    def stays() -> Any:
        while True:
            key = (rng.randint(1, span), rng.randint(1, 14), rng.randint(1, 6))
            if key not in seen:
                seen.add(key)
                yield key

    def maker(server: Server, app: bool) -> RequestMaker:
        gen = stays()

        def make(_: int, __: int) -> tuple[bytes, bytes]:
            offset, nights, adults = next(gen)
            check_in = w.today + timedelta(days=offset)
            q = {
                "check_in": check_in.isoformat(),
                "check_out": (check_in + timedelta(days=nights)).isoformat(),
                "adults": adults,
            }
            if app:
                path = f"/api/v1/public/{w.slug}/search?{urlencode(q)}"
            else:
                path = f"/search?{urlencode({'agency': str(w.agency_id), **q})}"
            return request_head("GET", path, server.port, {}), b""

        return make

    # Two generators over one `seen`: app and reference each get new stays, from the same
    # distribution; neither ever repeats a stay the other or itself asked.
    return maker(api, True), maker(ref, False)


def calendar_makers(w: World, api: Server, ref: Server, seed: int) -> dict[str, RequestMaker]:
    ids = "&".join(f"property_ids={pid}" for pid in w.calendar_ids)
    auth = {"authorization": f"Bearer {w.token}"}
    span = max(1, (w.busy_to - w.busy_from).days - CAL_DAYS)

    def windows(salt: int) -> Any:
        rng = random.Random(seed * 1000 + salt)
        for _ in itertools.count():
            start = w.busy_from + timedelta(days=rng.randrange(span))
            yield start, start + timedelta(days=CAL_DAYS)

    def maker(kind: str, server: Server, salt: int) -> RequestMaker:
        gen = windows(salt)

        def make(_: int, __: int) -> tuple[bytes, bytes]:
            start, end = next(gen)
            window = f"start={start}&end={end}&{ids}"
            if kind == "ranges":
                return request_head(
                    "GET", f"/api/v1/calendar/ranges?{window}", server.port, auth
                ), b""
            if kind == "days":
                return request_head("GET", f"/api/v1/calendar?{window}", server.port, auth), b""
            path = f"/ranges?agency={w.agency_id}&{window}"
            return request_head("GET", path, server.port, {}), b""

        return make

    return {
        "ref": maker("ref", ref, 1),
        "ranges": maker("ranges", api, 1),
        "days": maker("days", api, 1),
    }


def booking_makers(
    w: World, api: Server, ref: Server, phase: int
) -> tuple[RequestMaker, RequestMaker]:
    """Client c books for agency c: its k-th request (counted across a line's slices) takes
    slot k, property k % PER_AGENCY, two nights, back to back after the previous slot's; each
    phase starts in its own part of the ARI window."""
    first = w.today + timedelta(days=10 + 300 * phase)

    def slots() -> Callable[[int], int]:
        taken: dict[int, int] = {}

        def next_slot(c: int) -> int:
            k = taken[c] = taken.get(c, -1) + 1
            return k

        return next_slot

    app_slot, ref_slot = slots(), slots()

    def stay(k: int) -> tuple[date, date]:
        check_in = first + timedelta(days=2 * (k // PER_AGENCY))
        if check_in + timedelta(days=2) > w.ari_end:
            raise RuntimeError("booking slots ran past the ARI window: shorten the run")
        return check_in, check_in + timedelta(days=2)

    def app(c: int, _: int) -> tuple[bytes, bytes]:
        a = w.booking[c]
        k = app_slot(c)
        check_in, check_out = stay(k)
        head = request_head(
            "POST",
            "/api/v1/bookings",
            api.port,
            {"authorization": f"Bearer {a.token}", "content-type": "application/json"},
        )
        body = {
            "property_id": a.app_properties[k % PER_AGENCY][0],
            "check_in": check_in.isoformat(),
            "check_out": check_out.isoformat(),
            "adults": 2,
            "guest_id": a.guest_id,
        }
        return head, json.dumps(body).encode()

    def reference(c: int, _: int) -> tuple[bytes, bytes]:
        a = w.booking[c]
        k = ref_slot(c)
        check_in, check_out = stay(k)
        prop, plan = a.ref_properties[k % PER_AGENCY]
        head = request_head("POST", "/booking", ref.port, {"content-type": "application/json"})
        body = {
            "agency_id": a.agency_id,
            "user_id": a.user_id,
            "property_id": prop,
            "rate_plan_id": plan,
            "check_in": check_in.isoformat(),
            "check_out": check_out.isoformat(),
            "adults": 2,
            "guest_id": a.guest_id,
        }
        return head, json.dumps(body).encode()

    return app, reference


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


# The tables the measured requests write (the booking lines) and the ones they read.
_SETTLED_TABLES = "bookings, occupied_ranges, ari_days, outbox_events, audit_log, properties"


async def settle(owner_url: str) -> None:
    """Start each line on a settled database: the dead rows and the WAL the line before left
    (the reference's 20,000 bookings, say) are cleaned up and checkpointed now, not by
    autovacuum and the checkpointer while the next line runs, on its CPU figures."""
    conn = await asyncpg.connect(plain(owner_url))
    try:
        await conn.execute(f"VACUUM (ANALYZE) {_SETTLED_TABLES}")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def run_phase(
    args: argparse.Namespace,
    w: World,
    api: Server,
    ref: Server,
    pg: int | None,
    phase: int,
    owner_url: str,
) -> dict[str, LoadResult]:
    results: dict[str, LoadResult] = {}

    def probe_for(server: Server) -> Any:
        def probe() -> dict[str, float]:
            # The server's processes: uvicorn's supervisor and its workers when there are
            # several, the one process otherwise.
            cpu = {server.name: tree_cpu(server.proc.pid)}
            if pg is not None:
                cpu["postgres"] = tree_cpu(pg)
            return cpu

        return probe

    async def measure(*lines: Line) -> None:
        """The lines side by side: ``--rounds`` slices of each, in turn, the order reversed
        every other round (A B, B A, ...), so a change in the machine's speed during the
        comparison (this machine's neighbours come and go) weighs on each line alike rather
        than on whichever ran second. Each slice starts on a settled database after its own
        warm-up; a line's figures are its slices' together."""
        slice_seconds = args.seconds / args.rounds
        for r in range(args.rounds):
            for line in lines if r % 2 == 0 else lines[::-1]:
                await settle(owner_url)
                res = await run_load(
                    line.label,
                    line.server.port,
                    line.make,
                    clients=line.clients,
                    warmup=args.warmup,
                    seconds=slice_seconds,
                    expected=line.expected,
                    probe=probe_for(line.server),
                )
                known = results.get(line.key)
                results[line.key] = res if known is None else known.merged(res)
        for line in lines:
            say(results[line.key].line())
            say(results[line.key].cpu_line())

    for clients in (1, 10) if "search" in args.only else ():
        app, reference = search_makers(w, api, ref, args.seed + 10 * phase + clients)
        say(f"\nsearch, {clients} client(s), a new stay and party each request")
        await measure(
            Line(f"ref search {clients}", "ref search", ref, reference, clients, 200),
            Line(f"search {clients}", "GET search", api, app, clients, 200),
        )

    if "calendar" in args.only:
        makers = calendar_makers(w, api, ref, args.seed + phase)
        say(
            f"\ncalendar, 10 clients, {len(w.calendar_ids)} properties x {CAL_DAYS} days, "
            "a new window each request"
        )
        await measure(
            Line("ref ranges", "ref ranges", ref, makers["ref"], 10, 200),
            Line("ranges", "GET cal/ranges", api, makers["ranges"], 10, 200),
            Line("days", "GET calendar/day", api, makers["days"], 10, 200),
        )

    if "booking" not in args.only:
        return results
    app, reference = booking_makers(w, api, ref, phase)
    say(f"\nbooking creation, {len(w.booking)} clients, one agency each, free dates")
    await measure(
        Line("ref booking", "ref booking", ref, reference, len(w.booking), 201),
        Line("booking", "POST /bookings", api, app, len(w.booking), 201),
    )
    return results


def report(phase: str, r: dict[str, LoadResult]) -> list[tuple[str, bool]]:
    """The ratios and verdicts of the lines measured (``--only`` may have left some out)."""
    verdicts: list[tuple[str, bool]] = []
    say(f"\nratios, {phase}")
    for clients in (1, 10) if "search 1" in r else ():
        app, ref = r[f"search {clients}"], r[f"ref search {clients}"]
        ratio = app.p99_ms / ref.p99_ms
        ok = ratio <= P99_TARGET and not app.unexpected
        verdicts.append((f"{phase}: search p99 at {clients} client(s)", ok))
        say(
            f"  search, {clients:>2} client(s): p50 {app.p50_ms:.1f} vs {ref.p50_ms:.1f} ms, "
            f"p99 {app.p99_ms:.1f} vs {ref.p99_ms:.1f} ms = {ratio:.2f}x  "
            f"(target ≤ {P99_TARGET:g}x: {verdict(ok)})"
        )
    if "ranges" in r:
        verdicts += _calendar_report(phase, r)
    if "booking" in r:
        verdicts += _booking_report(phase, r)
    return verdicts


def _calendar_report(phase: str, r: dict[str, LoadResult]) -> list[tuple[str, bool]]:
    app, ref, days = r["ranges"], r["ref ranges"], r["days"]
    ratio = app.p99_ms / ref.p99_ms
    ok = ratio <= P99_TARGET and not app.unexpected
    verdicts = [(f"{phase}: calendar range form p99", ok)]
    say(
        f"  calendar ranges: p50 {app.p50_ms:.1f} vs {ref.p50_ms:.1f} ms, p99 {app.p99_ms:.1f} "
        f"vs {ref.p99_ms:.1f} ms = {ratio:.2f}x  (target ≤ {P99_TARGET:g}x: {verdict(ok)})"
    )
    say(
        f"  calendar per-day form (no target): p50 {days.p50_ms:.1f} ms, p99 {days.p99_ms:.1f} "
        f"ms = {days.p99_ms / ref.p99_ms:.2f}x the reference's ranges p99"
    )
    return verdicts


def _booking_report(phase: str, r: dict[str, LoadResult]) -> list[tuple[str, bool]]:
    app, ref = r["booking"], r["ref booking"]
    share = app.rps / ref.rps if ref.rps else 0.0
    ratio = app.p99_ms / ref.p99_ms
    ok_share, ok_p99, ok_err = share >= BOOKING_RPS_TARGET, ratio <= P99_TARGET, not app.unexpected
    verdicts = [
        (f"{phase}: booking throughput", ok_share),
        (f"{phase}: booking p99", ok_p99),
        (f"{phase}: booking errors", ok_err),
    ]
    say(
        f"  booking creation: {app.rps:.1f} vs {ref.rps:.1f} req/s = {share * 100:.1f} %  "
        f"(target ≥ {BOOKING_RPS_TARGET * 100:.0f} %: {verdict(ok_share)}); p50 {app.p50_ms:.1f} "
        f"vs {ref.p50_ms:.1f} ms, p99 {app.p99_ms:.1f} vs {ref.p99_ms:.1f} ms = {ratio:.2f}x "
        f"(target ≤ {P99_TARGET:g}x: {verdict(ok_p99)}); unexpected answers {app.unexpected} "
        f"(target 0: {verdict(ok_err)})"
    )
    return verdicts


async def bench(
    args: argparse.Namespace, api: Server, ref: Server, owner_url: str, pg: int | None
) -> int:
    base = f"http://127.0.0.1:{api.port}"
    agency_id, token = await signup(base)
    t = time.perf_counter()
    property_ids, _, _ = await load(owner_url, agency_id, args.properties, args.bookings, args.seed)
    await list_properties(owner_url, agency_id, args.seed)
    say(
        f"loaded {args.properties:,} properties, {args.bookings:,} bookings in "
        f"{time.perf_counter() - t:.1f} s"
    )
    seconds = await add_plans(base, token, property_ids, args.seed)
    say(f"{len(property_ids):,} default rate plans (24 months of ARI rows each) in {seconds:.1f} s")
    t = time.perf_counter()
    bookers = (
        await booking_agencies(base, args.agencies, args.seed) if "booking" in args.only else []
    )
    say(
        f"{len(bookers)} booking agencies, {2 * PER_AGENCY} properties each, in "
        f"{time.perf_counter() - t:.1f} s"
    )
    conn = await asyncpg.connect(plain(owner_url))
    try:
        await conn.execute("SELECT set_config('app.agency_id', $1, false)", str(agency_id))
        busy_from, busy_to = await conn.fetchrow(
            "SELECT min(check_in), max(check_out) FROM bookings"
        )
        ari_end = await conn.fetchval("SELECT min(ari_end) FROM rate_plans")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        slug = (
            await client.get("/api/v1/agency", headers={"authorization": f"Bearer {token}"})
        ).json()["slug"]
    today = datetime.now(UTC).date()
    w = World(
        agency_id,
        token,
        slug,
        property_ids,
        property_ids[:CAL_PROPERTIES],
        today,
        ari_end,
        max(busy_from, today - timedelta(days=60)),
        busy_to,
        bookers,
        busy_from,
    )
    say(
        f"loaded stays {busy_from} .. {busy_to}; calendar windows from {w.busy_from}; "
        f"ARI rows until {ari_end}"
    )

    say(
        f"\n=== phase 1: base ({args.warmup:g} s warm-up, {args.seconds:g} s measured per line; "
        "app first answered after its reference)"
    )
    base_results = await run_phase(args, w, api, ref, pg, 0, owner_url)
    verdicts = report("base", base_results)
    if args.base_only:
        return 1 if any(not ok for _, ok in verdicts) else 0

    n, seconds = await add_history(owner_url, w, HISTORY_YEARS, args.seed)
    say(
        f"\nadded {n:,} past stays ({HISTORY_YEARS} years per property, all agencies) "
        f"in {seconds:.1f} s"
    )
    say("\n=== phase 2: with history")
    hist = await run_phase(args, w, api, ref, pg, 1, owner_url)
    verdicts += report("history", hist)

    say("\ngrowth of the cold p99, base → history")
    for key, label in (
        ("search 1", "search, 1 client"),
        ("search 10", "search, 10 clients"),
        ("ranges", "calendar ranges"),
        ("days", "calendar per-day (no target)"),
        ("booking", "booking creation"),
    ):
        if key not in hist:
            continue
        grow = hist[key].p99_ms / base_results[key].p99_ms
        ref_key = {"days": "ref ranges", "ranges": "ref ranges"}.get(key, f"ref {key}")
        ref_grow = hist[ref_key].p99_ms / base_results[ref_key].p99_ms
        line = (
            f"  {label:<30} {base_results[key].p99_ms:8.1f} → {hist[key].p99_ms:8.1f} ms = "
            f"{grow:.2f}x  (reference {ref_grow:.2f}x)"
        )
        if key != "days":
            ok = grow <= GROWTH_TARGET
            verdicts.append((f"growth: {label}", ok))
            line += f"  (target ≤ {GROWTH_TARGET:g}x: {verdict(ok)})"
        say(line)
    missed = [name for name, ok in verdicts if not ok]
    say(
        f"\n{len(verdicts) - len(missed)}/{len(verdicts)} targets met"
        + (f"; missed: {', '.join(missed)}" if missed else "")
    )
    return 1 if missed else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--properties", type=int, default=1000)
    p.add_argument("--bookings", type=int, default=100_000)
    p.add_argument("--agencies", type=int, default=BOOKING_AGENCIES)
    p.add_argument("--seconds", type=float, default=10.0, help="measured time per line")
    p.add_argument("--warmup", type=float, default=2.0, help="uncounted time per line")
    p.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="slices per line, the lines of a comparison in turn (A B B A ...); "
        "--seconds is split among them",
    )
    p.add_argument("--seed", type=int, default=4)
    p.add_argument(
        "--only",
        type=lambda v: set(v.split(",")),
        default=ALL,
        help="comma-separated subset of search,calendar,booking (both phases unless --base-only)",
    )
    p.add_argument("--base-only", action="store_true", help="skip the history phase")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="uvicorn worker processes of the app and of the reference alike (default: one per "
        "core, as production runs the API; 1 with --profile)",
    )
    p.add_argument("--profile", action="store_true", help="run the API under cProfile")
    args = p.parse_args()
    if args.workers is None:
        args.workers = 1 if args.profile else os.cpu_count() or 1
    if args.profile and args.workers != 1:
        p.error("--profile profiles one process: use it with --workers 1")
    prof = BENCH_DATA / "cold_path.prof"

    def on_term(signum: int, _: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    say(f"bench.cold_path  {time.strftime('%Y-%m-%d %H:%M:%S')}  cpus={os.cpu_count()}")
    with ExitStack() as stack:
        svc = stack.enter_context(services())
        for note in svc.notes:
            say(note)
        env = server_env(svc)
        api_port, ref_port = free_port(), free_port()
        workers = ["--workers", str(args.workers)]
        api_argv = [
            *(python(), "-m", "pms", "api", "--host", "127.0.0.1", "--port", str(api_port)),
            *workers,
        ]
        if args.profile:
            prof.unlink(missing_ok=True)
            api_argv[1:1] = ["-m", "cProfile", "-o", str(prof)]
        api = stack.enter_context(serve("api", api_argv, env, api_port, "/health/live"))
        ref_argv = [python(), "-m", "bench.reference_app", "--port", str(ref_port), *workers]
        ref = stack.enter_context(serve("reference", ref_argv, env, ref_port, "/bare"))
        say(
            f"servers: `pms api` on {api_port} and bench.reference_app on {ref_port}: uvicorn, "
            f"{args.workers} worker process(es) each, the same arguments; LOG_LEVEL=WARNING"
        )
        code = asyncio.run(bench(args, api, ref, svc.database_url, svc.postgres_pid))
    if args.profile:
        print_profile(prof, 40)
    say("stopped every process this bench started")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
