"""Quote throughput with 1,000 priced properties, next to a bare request of the same run, and
the cost of recomputing ARI after a 365-day season change.

    .venv/bin/python -m bench.quotes [--properties 1000] [--clients 50] [--seconds 15]

Starts embedded PostgreSQL and Redis (unless DATABASE_URL/REDIS_URL are set; then a fresh
database is created next to the given one), migrates, loads the properties through the
services (each with a default rate plan, two seasons, weekend prices, a cleaning fee, VAT and
visitor tax), serves the app with `uvicorn pms.api.app:create_app --factory` in a subprocess
and a bare FastAPI app the same way, and drives both with the same 50-client load generator.
Self-contained on purpose (no shared bench harness yet)."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from pms.embedded.process import free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent


def bare_app() -> FastAPI:
    """The floor: the same server and framework, a JSON body in and out, no database."""
    app = FastAPI()

    @app.post("/bare")
    async def bare(body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "echo": len(body)}

    return app


# --- services ----------------------------------------------------------------------------------


@contextmanager
def services(tmp: Path) -> Iterator[tuple[str, str]]:
    """(database URL, Redis URL): a fresh database on the given server or embedded ones."""
    from pms.embedded.postgres import EmbeddedPostgres
    from pms.embedded.redis import EmbeddedRedis

    started: list[Any] = []
    try:
        base = os.environ.get("DATABASE_URL")
        if base is None:
            pg = EmbeddedPostgres(tmp / "pg", free_port(), durable=False)
            base = pg.start()
            started.append(pg)
        redis_url = os.environ.get("REDIS_URL")
        if redis_url is None:
            redis = EmbeddedRedis(tmp / "redis", free_port(), durable=False)
            redis_url = redis.start()
            started.append(redis)
        name = f"bench_quotes_{uuid.uuid4().hex[:8]}"
        asyncio.run(_create_db(base, name))
        yield base.rsplit("/", 1)[0] + "/" + name, redis_url
    finally:
        for service in reversed(started):
            service.stop()


async def _create_db(url: str, name: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


# --- data ------------------------------------------------------------------------------------


async def load(n: int) -> tuple[str, list[str], list[str]]:
    """An agency with `n` priced properties; returns an access token, property ids, plan ids."""
    from pms import db
    from pms.core import auth, properties, rates
    from pms.core.permissions import Role
    from pms.core.tenancy import Actor, scope_transaction
    from pms.models import rates as m
    from pms.schemas import rates as s
    from pms.schemas.property import PropertyCreate
    from pms.settings import get_settings

    settings = get_settings()
    maker = db.get_sessionmaker()
    async with maker() as session, session.begin():
        user, agency, tokens = await auth.signup(
            session,
            settings,
            email="bench@example.com",
            password="bench-password-123",
            agency_name="Bench",
        )
        actor = Actor(user.id, user.email, agency.id, Role.ADMIN)
        vat7 = m.TaxClass(id=uuid.uuid4(), agency_id=agency.id, code="VAT7", rate_percent=7)
        vat19 = m.TaxClass(id=uuid.uuid4(), agency_id=agency.id, code="VAT19", rate_percent=19)
        fee = m.Fee(
            id=uuid.uuid4(),
            agency_id=agency.id,
            code="cleaning",
            kind="per_stay",
            currency="EUR",
            amount_minor=6000,
            tax_class_id=vat19.id,
        )
        tax = m.VisitorTaxLocation(
            id=uuid.uuid4(),
            agency_id=agency.id,
            name="Town",
            currency="EUR",
            amount_minor=300,
            child_age_limit=16,
        )
        session.add_all([vat7, vat19, tax])
        await session.flush()
        session.add(fee)
        await session.flush()
    today = datetime.now(UTC).date()
    property_ids: list[str] = []
    plan_ids: list[str] = []
    started = time.perf_counter()
    for batch in range(0, n, 50):
        async with maker() as session, session.begin():
            await scope_transaction(session, user_id=user.id, agency_id=agency.id)
            for i in range(batch, min(n, batch + 50)):
                prop = await properties.create(
                    session,
                    actor,
                    PropertyCreate(
                        name=f"Bench {i:04d}",
                        timezone="Europe/Berlin",
                        currency="EUR",
                        max_guests=6,
                    ),
                )
                plan, _ = await rates.plans.create_plan(
                    session,
                    actor,
                    prop.id,
                    s.RatePlanCreate(
                        name="Standard",
                        base_price_minor=9000 + i,
                        weekday_prices={4: 11000, 5: 11000},
                        los_discounts=[s.LosDiscountIn(min_nights=7, percent=10)],
                    ),
                )
                for start, days, price in ((30, 60, 14000), (200, 45, 16000)):
                    await rates.seasons.create_season(
                        session,
                        actor,
                        plan.id,
                        s.SeasonCreate(
                            start=today + timedelta(days=start),
                            end=today + timedelta(days=start + days),
                            price_minor=price,
                            min_stay=3,
                        ),
                    )
                await rates.assignment.put_pricing(
                    session,
                    actor,
                    prop.id,
                    s.PropertyPricingUpdate(
                        accommodation_tax_class_id=vat7.id,
                        visitor_tax_location_id=tax.id,
                        fee_ids=[fee.id],
                    ),
                )
                property_ids.append(str(prop.id))
                plan_ids.append(str(plan.id))
        print(
            f"  loaded {len(property_ids)}/{n} ({time.perf_counter() - started:.0f} s)", flush=True
        )
    await db.dispose_engine()
    return tokens.access_token, property_ids, plan_ids


# --- serving and load ----------------------------------------------------------------------------


@contextmanager
def serve(factory: str, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            factory,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, **env, "LOG_LEVEL": "WARNING"},
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"{factory} exited with {proc.returncode}")
        try:
            return httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, 60, factory)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


async def drive(
    url: str,
    path: str,
    bodies: list[dict[str, Any]],
    headers: dict[str, str],
    clients: int,
    seconds: float,
) -> tuple[list[float], int]:
    """`clients` concurrent loops posting for `seconds`; latencies of the 2xx answers, errors."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as http:

        async def client(k: int) -> None:
            nonlocal errors
            rng = random.Random(k)
            while time.perf_counter() < deadline:
                body = rng.choice(bodies)
                t = time.perf_counter()
                r = await http.post(path, json=body)
                if r.status_code == 200:
                    latencies.append(time.perf_counter() - t)
                else:
                    errors += 1

        # Warm-up: connections, first compilation of each query.
        for body in bodies[:20]:
            await http.post(path, json=body)
        await asyncio.gather(*(client(k) for k in range(clients)))
    return latencies, errors


def figures(name: str, latencies: list[float], errors: int, seconds: float) -> float:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    rate = len(ordered) / seconds
    print(
        f"  {name:<7} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   {rate:8.1f} req/s   errors {errors}"
    )
    return rate


async def season_change(url: str, token: str, plan_ids: list[str]) -> list[float]:
    """A 365-day season added to a plan, then its price changed: each request recomputes and
    stores 365 ARI rows and emits one ari.changed event in its transaction."""
    today = datetime.now(UTC).date()
    timings = []
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:
        for plan_id in plan_ids:
            # Outside the two seasons every plan has: [today+300, today+665).
            start = today + timedelta(days=300)
            t = time.perf_counter()
            r = await http.post(
                f"/api/v1/rate-plans/{plan_id}/seasons",
                json={
                    "start": start.isoformat(),
                    "end": (start + timedelta(days=365)).isoformat(),
                    "price_minor": 12345,
                },
            )
            timings.append(time.perf_counter() - t)
            assert r.status_code == 201, r.text
            t = time.perf_counter()
            r = await http.patch(
                f"/api/v1/rate-plans/{plan_id}/seasons/{r.json()['id']}",
                json={"price_minor": 13345},
            )
            timings.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--properties", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="bench-quotes-") as tmp,
        services(Path(tmp)) as (
            database_url,
            redis_url,
        ),
    ):
        env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "DATA_DIR": tmp}
        os.environ.update(env)
        from pms import migrate
        from pms.settings import reset_settings_cache

        reset_settings_cache()
        migrate.upgrade(database_url)
        print(f"loading {args.properties} properties (plan, 2 seasons, fees, VAT, visitor tax)")
        token, property_ids, plan_ids = asyncio.run(load(args.properties))

        today = datetime.now(UTC).date()
        rng = random.Random(7)
        bodies = []
        for _ in range(2000):
            check_in = today + timedelta(days=rng.randrange(10, 400))
            bodies.append(
                {
                    "property_id": rng.choice(property_ids),
                    "check_in": check_in.isoformat(),
                    "check_out": (check_in + timedelta(days=7)).isoformat(),
                    "adults": 2,
                    "children_ages": [rng.randrange(0, 17)],
                }
            )
        auth = {"Authorization": f"Bearer {token}"}
        print(f"{args.clients} clients, {args.seconds:.0f} s each, one uvicorn process per app")
        with serve("bench.quotes:bare_app", env) as url:
            bare_lat, bare_err = asyncio.run(
                drive(url, "/bare", bodies, {}, args.clients, args.seconds)
            )
        with serve("pms.api.app:create_app", env) as url:
            quote_lat, quote_err = asyncio.run(
                drive(url, "/api/v1/quotes", bodies, auth, args.clients, args.seconds)
            )
            changes = asyncio.run(season_change(url, token, plan_ids[:10]))
        bare = figures("bare", bare_lat, bare_err, args.seconds)
        quotes = figures("quote", quote_lat, quote_err, args.seconds)
        print(f"  quote throughput = {100 * quotes / bare:.1f} % of bare (target ≥ 25 %)")
        changes_ms = sorted(t * 1000 for t in changes)
        print(
            f"  365-day season change incl. ARI recompute (request): "
            f"p50 {statistics.median(changes_ms):.0f} ms, max {changes_ms[-1]:.0f} ms "
            f"over {len(changes_ms)} requests"
        )


if __name__ == "__main__":
    main()
