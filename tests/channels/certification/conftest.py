"""The certification run's stage for one platform: a reset simulator, the API as its own process
(webhooks reach it), relay and worker, an agency with a priced property connected and mapped, and
the full sync done. ``Cert`` holds what every scenario asserts with: the platform's read-back
night by night, Core's state and the sync log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest
import redis

from pms import db
from pms.channel.adapters import fidelity_of
from pms.channel.adapters.base import NightValues
from pms.channel.engine.values import expressed
from pms.redis_client import close_redis
from pms.settings import reset_settings_cache
from tests.channels.certification.platforms import PLATFORMS, Driver, Night
from tests.factories import Agency
from tests.integration.channel.conftest import channel_env, sandbox_server  # noqa: F401
from tests.integration.channel.helpers import core_ari, priced_agency, window
from tests.sandbox.conftest import Served
from tests.services import PgCluster, RedisServer, eventually, run_api, run_relay, run_worker

T = TypeVar("T")


@dataclass
class Cert:
    client: httpx.AsyncClient
    sandbox: httpx.AsyncClient
    driver: Driver
    agency: Agency
    connection_id: str
    mapping_id: str
    start: date
    end: date

    @property
    def h(self) -> dict[str, str]:
        return self.agency.auth()

    def require(self, scenario: int) -> None:
        """A scenario the platform cannot express is skipped with the reason it declares."""
        if scenario in self.driver.cannot:
            pytest.skip(f"{self.driver.platform}: {self.driver.cannot[scenario]}")

    # --- Core ---------------------------------------------------------------------------------

    async def core(self, start: date, end: date) -> dict[str, Night]:
        """Core's nights as the platform can show them (a rule it cannot express becomes what
        it shows instead: the restriction fidelity warnings name these)."""
        fidelity = fidelity_of(self.driver.platform)
        out = {}
        for d in await core_ari(self.client, self.agency, start, end):
            shown, _ = expressed(
                NightValues(
                    d["available"],
                    None,
                    d["min_stay"],
                    d["max_stay"],
                    d["closed_to_arrival"],
                    d["closed_to_departure"],
                ),
                fidelity,
            )
            out[d["date"]] = Night(
                available=d["available"],
                price=Decimal(d["price"]["amount"]),
                min_stay=shown.min_stay,
                max_stay=shown.max_stay,
                closed_to_arrival=bool(shown.closed_to_arrival),
                closed_to_departure=bool(shown.closed_to_departure),
            )
        return out

    async def set_days(self, *ranges: dict[str, Any]) -> None:
        r = await self.client.put(
            f"/api/v1/rate-plans/{self.agency.rate_plan_id}/days",
            json={"ranges": list(ranges)},
            headers=self.h,
        )
        assert r.status_code == 200, r.text

    async def booking(self, code: str) -> list[dict[str, Any]]:
        """Core's bookings for this platform reservation (exactly one is right)."""
        r = await self.client.get(
            "/api/v1/bookings",
            params={"limit": 200, "source": self.driver.platform},
            headers=self.h,
        )
        assert r.status_code == 200, r.text
        return [b for b in r.json()["items"] if b["channel_booking_id"] == code]

    async def connection(self) -> dict[str, Any]:
        r = await self.client.get(
            f"/api/v1/channel-connections/{self.connection_id}", headers=self.h
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    # --- the platform -------------------------------------------------------------------------

    async def shown(self, start: date, end: date) -> dict[str, Night]:
        return await self.driver.shown(self.sandbox, start, end)

    async def mismatched(self, start: date, end: date) -> list[str]:
        """Nights where the platform does not show Core's values."""
        core, shown = await self.core(start, end), await self.shown(start, end)
        return [
            f"{n}: core {v} != platform {shown.get(n)}"
            for n, v in core.items()
            if shown.get(n) != v
        ]

    async def in_step(self, start: date, end: date, within: float = 45) -> None:
        last: list[str] = []

        async def check() -> bool:
            last[:] = await self.mismatched(start, end)
            return not last

        try:
            await eventually(check, within, f"{self.driver.platform} to show Core's nights")
        except AssertionError as exc:
            recent = [
                (e["kind"], e["outcome"], e["error"], e["details"]) for e in (await self.log())[:12]
            ]
            raise AssertionError(f"{exc}: {last[:3]}; sync log: {recent}") from exc

    async def until(self, check: Callable[[], Awaitable[T]], what: str, within: float = 30) -> T:
        """Wait for ``check``, letting inbound messages arrive meanwhile (pull platforms pull
        as their schedule would)."""

        async def step() -> T:
            await self.driver.deliver()
            return await check()

        result: T = await eventually(step, within, what)
        return result

    # --- the sync log -------------------------------------------------------------------------

    async def log(self, after: int = 0) -> list[dict[str, Any]]:
        r = await self.client.get(
            f"/api/v1/channel-connections/{self.connection_id}/sync-log",
            params={"limit": 200},
            headers=self.h,
        )
        assert r.status_code == 200, r.text
        return [e for e in r.json() if e["id"] > after]

    async def last_log_id(self) -> int:
        entries = await self.log()
        return max((e["id"] for e in entries), default=0)

    async def pushed(self, after: int, within: float = 30) -> list[dict[str, Any]]:
        """The push entries written after ``after`` once at least one exists."""

        async def found() -> list[dict[str, Any]]:
            return [e for e in await self.log(after) if e["kind"] == "push" and e["calls"]]

        entries: list[dict[str, Any]] = await eventually(found, within, "a push in the sync log")
        return entries

    async def recorded(self, after: int) -> int:
        """Wait for the push of a change the platform already shows, and return the log's last
        id: the mark to look for the push of the change that undoes it.

        A pulling platform (Vrbo) reads our feeds, so it shows a change before our flush has
        recorded it; undoing the change before that flush would leave the flush nothing to
        record (the change and its undoing coalesce), and no push would ever come."""
        await self.pushed(after)
        return await self.last_log_id()

    async def no_failures(self, after: int) -> None:
        bad = [e for e in await self.log(after) if e["outcome"] in ("failed", "dead_letter")]
        assert not bad, bad


@pytest.fixture(scope="module", params=sorted(PLATFORMS))
def platform(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@dataclass
class Stage:
    """One platform's run: its database, the API, relay and worker, shared by its scenarios
    (each scenario has its own agency, and disconnects when it ends)."""

    api_url: str
    sandbox_url: str


@pytest.fixture(scope="module")
def stage(
    platform: str,
    pg_cluster: PgCluster,
    redis_server: RedisServer,
    sandbox_server: Served,  # noqa: F811 - the fixture imported above
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stage]:
    tmp = tmp_path_factory.mktemp(f"cert-{platform}")
    database_url = asyncio.run(pg_cluster.create_db())
    redis.Redis.from_url(redis_server.url).flushall()
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_server.url,
        "ENVIRONMENT": "test",
        "DATA_DIR": str(tmp / "data"),
        "LOG_JSON": "true",
        **channel_env(sandbox_server.url),
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        reset_settings_cache()
        processes = {k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "ENVIRONMENT", "DATA_DIR")}
        with (
            run_api(processes, tmp) as api_url,
            run_relay(processes, tmp),
            run_worker(processes, tmp, redis_server.url),
        ):
            yield Stage(api_url, sandbox_server.url)
        reset_settings_cache()
    asyncio.run(pg_cluster.drop_db(database_url))


@pytest.fixture
async def cert(platform: str, stage: Stage) -> AsyncIterator[Cert]:
    # This test's event loop gets its own pools.
    await db.dispose_engine()
    await close_redis()
    driver = PLATFORMS[platform](api_url=stage.api_url)
    sandbox = httpx.AsyncClient(base_url=stage.sandbox_url, timeout=15)
    api = httpx.AsyncClient(base_url=stage.api_url, timeout=30)
    (await sandbox.post("/control/reset")).raise_for_status()
    await driver.setup(sandbox)
    a = await priced_agency(api, f"Cert {platform}")
    connection_id, mapping_id = await driver.connect(api, a)
    driver.connection_id = connection_id
    start, end = window()
    c = Cert(api, sandbox, driver, a, connection_id, mapping_id, start, end)
    try:
        await c.in_step(start, end, within=60)  # the full sync on mapping
        await c.pushed(0)  # ... and its record, so a scenario's log starts after it

        async def settled() -> bool:
            return (await c.connection())["health"]["lag_seconds"] is None

        await eventually(settled, 30, "nothing left to push")
        yield c
    finally:
        # The next scenario maps the same listing in its own agency, so the connection must go
        # (a platform listing is mapped once across agencies). On a loaded machine the DELETE
        # may wait for a flush holding the connection and time out: ask again until it is gone.
        async def disconnected() -> bool:
            path = f"/api/v1/channel-connections/{connection_id}"
            try:
                r = await api.delete(path, headers=a.auth())
            except httpx.TransportError:
                return False
            return r.status_code in (204, 404)

        await eventually(disconnected, 90, "the scenario's connection deleted")
        await sandbox.aclose()
        await api.aclose()
        await db.dispose_engine()
        await close_redis()


def nights(start: date, count: int) -> tuple[date, date]:
    return start, start + timedelta(days=count)
