"""Shared fixtures: real PostgreSQL and Redis, a fresh database per test, the app over ASGI."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import uvicorn
from argon2 import PasswordHasher
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from pms import db
from pms.core import passwords
from pms.embedded.process import free_port
from pms.redis_client import close_redis
from pms.settings import Settings, get_settings, reset_settings_cache
from tests.services import (
    PgCluster,
    RedisServer,
    Worker,
    drop_template,
    run_relay,
    run_worker,
    start_postgres,
    start_redis,
    wait_for,
)

# `make mutation` (--hypothesis-profile=mutation): the same examples for every mutant, and no
# health check failing a test because mutmut's trampolines make input generation slow.
hypothesis_settings.register_profile(
    "mutation", derandomize=True, deadline=None, suppress_health_check=list(HealthCheck)
)


# Password hashing at the lowest cost argon2id allows: the suite signs up and logs in hundreds
# of users, and at the production parameters (64 MiB, 3 passes) each hash costs half a second of
# a shared core. The tests check who may log in, not argon2's cost; a stored hash carries its
# parameters, so verification is unchanged. Production keeps the library's recommended ones.
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
passwords._DUMMY_HASH = passwords._hasher.hash("timing-equaliser")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    cluster = start_postgres()
    yield cluster
    if cluster.server is None and cluster.owns_template:
        asyncio.run(drop_template(cluster))
    if cluster.server:
        cluster.server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = start_redis()
    yield server
    if server.server:
        server.server.stop()


@pytest.fixture
async def database_url(pg_cluster: PgCluster) -> AsyncIterator[str]:
    url = await pg_cluster.create_db()
    yield url
    await db.dispose_engine()
    await pg_cluster.drop_db(url)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    return redis_server.url


@pytest.fixture
def redis_timeout_seconds() -> float:
    """Each Redis call's limit on the request path. The suite shares two cores with browsers,
    workers and relays: a call can wait more than the production second for its turn, which is
    load, not an outage. (Tests of a stalled Redis keep the production second.)"""
    return 5.0


@pytest.fixture
async def settings(
    database_url: str,
    redis_url: str,
    redis_timeout_seconds: float,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> AsyncIterator[Settings]:
    """Settings pointing at this test's database and Redis, as every process would read them."""
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ENVIRONMENT": "test",
        "DATA_DIR": str(tmp_path / "data"),
        "LOG_JSON": "true",
        "REDIS_TIMEOUT_SECONDS": str(redis_timeout_seconds),
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    reset_settings_cache()
    await db.dispose_engine()
    await close_redis()
    yield get_settings()
    await db.dispose_engine()
    await close_redis()
    reset_settings_cache()


@pytest.fixture
def app(settings: Settings) -> Any:
    from pms.api.app import create_app

    return create_app()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def worker(settings: Settings, tmp_path: Path) -> Iterator[Worker]:
    with run_worker(_process_env(), tmp_path, settings.require_redis_url()) as w:
        yield w


@pytest.fixture
def celery_app(worker: Worker, settings: Settings) -> Any:
    """The app that sends tasks to ``worker``. Imported during set-up, once the settings name
    this test's Redis: the app reads its broker when first imported (and the import, ~60 ms,
    inside a test body would block its event loop)."""
    from pms.tasks.app import celery_app

    assert celery_app.conf.broker_url == settings.require_redis_url()
    return celery_app


def _process_env() -> dict[str, str]:
    return {k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL", "ENVIRONMENT", "DATA_DIR")}


@pytest.fixture
def relay(settings: Settings, tmp_path: Path) -> Iterator[Worker]:
    """``pms relay`` running as its own process."""
    with run_relay(_process_env(), tmp_path) as r:
        yield r


@pytest.fixture
def live_api(settings: Settings) -> Iterator[str]:
    """The app served by uvicorn on loopback (in a thread with its own event loop): real HTTP,
    real streaming, and the test's event loop free for the client."""
    from pms.api.app import create_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    wait_for(lambda: server.started, 30, "uvicorn")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)


class _SlowCallbacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reports: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if msg.startswith("Executing") and "took" in msg:
            self.reports.append(msg)


# 100 ms per the architecture; raise it only on a machine that is busy with something else.
SLOW_CALLBACK_SECONDS = float(os.environ.get("PMS_TEST_SLOW_CALLBACK_MS", "100")) / 1000
_slow = _SlowCallbacks()
logging.getLogger("asyncio").addHandler(_slow)


@pytest.fixture(autouse=True)
def _no_full_gc_inside_the_test() -> None:
    """Each test builds an app (and its OpenAPI document); once the heap holds a few of them, a
    full garbage collection takes 0.3-0.5 s, and one landing inside a test body trips the
    loop-blocking check although no code of ours blocked. Collect during set-up (exempt) and
    freeze the survivors, so later full passes have little to scan."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
async def _debug_event_loop() -> None:
    """A blocking call in async code stalls every request of the process: asyncio's debug mode
    reports callbacks that block the loop > 100 ms, and this turns the report into a failure."""
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = SLOW_CALLBACK_SECONDS


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A test whose body blocks the event loop fails. (Fixture set-up is exempt: it includes
    one-time warm-ups such as the first compilation of each query.)"""
    _slow.reports.clear()
    result = yield
    if _slow.reports:
        reports, _slow.reports[:] = list(_slow.reports), []
        pytest.fail("the event loop was blocked:\n" + "\n".join(reports))
    return result


def pytest_collection_finish(session: pytest.Session) -> None:
    """The Celery app takes its broker URL from the settings when ``pms.tasks.app`` is first
    imported. A test module importing it at collection fixes the broker to the default Redis
    for every later test of that process (the relay and worker tests then fail far away from
    the cause): import task modules inside the test, or keep pure helpers outside ``pms.tasks``."""
    if "pms.tasks.app" in sys.modules:
        raise pytest.UsageError(
            "pms.tasks.app was imported while collecting tests; import it inside the tests"
        )
