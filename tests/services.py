"""Test services: embedded PostgreSQL/Redis (unless TEST_DATABASE_URL/TEST_REDIS_URL), a migrated
template database cloned per test, and a real Celery worker."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import redis
from sqlalchemy.engine import make_url

from pms import migrate
from pms.embedded.postgres import EmbeddedPostgres
from pms.embedded.process import free_port, spawn, stop
from pms.embedded.redis import EmbeddedRedis

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = REPO / ".data" / "test"


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def wait_for(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll a condition with a deadline (tests never sleep a fixed time to wait for work)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


async def eventually(
    check: Callable[[], Awaitable[Any]], within: float = 15.0, what: str = "condition"
) -> Any:
    """``wait_for`` for async checks: poll with a deadline, never blocking the event loop."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.02)


@dataclass
class PgCluster:
    url: str  # server URL, database "postgres"
    template: str
    server: EmbeddedPostgres | None = None
    owns_template: bool = True

    async def create_db(self) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        conn = await asyncpg.connect(plain(self.url))
        try:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        finally:
            await conn.close()
        return with_database(self.url, name)

    async def drop_db(self, url: str) -> None:
        name = make_url(url).database
        conn = await asyncpg.connect(plain(self.url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def start_postgres() -> PgCluster:
    external = os.environ.get("TEST_DATABASE_URL")
    server = None
    if external:
        url = with_database(external, "postgres")
        # A template migrated once by whoever started the server (``make mutation`` runs
        # pytest once per mutant): reuse it, leave it in place.
        shared = os.environ.get("TEST_TEMPLATE_DATABASE")
        if shared:
            return PgCluster(url=url, template=shared, owns_template=False)
    else:
        server = EmbeddedPostgres(TEST_DATA / f"pg-{os.getpid()}", free_port(), durable=False)
        server.start()
        url = server.url
    template = f"pms_template_{os.getpid()}"
    template_url = with_database(url, template)
    migrate.ensure_database(template_url)
    migrate.upgrade(template_url)
    return PgCluster(url=url, template=template, server=server)


async def drop_template(cluster: PgCluster) -> None:
    conn = await asyncpg.connect(plain(cluster.url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{cluster.template}" WITH (FORCE)')
    finally:
        await conn.close()


def make_url_redis(url: str, db: int) -> str:
    """``url`` with its database number replaced by ``db``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


@dataclass
class RedisServer:
    url: str
    server: EmbeddedRedis | None = None


def start_redis() -> RedisServer:
    external = os.environ.get("TEST_REDIS_URL")
    if external:
        # pytest-xdist workers share an external server: each gets a database of its own
        # (gw0 -> 1, gw1 -> 2, ...), since every test starts by emptying its database.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        if worker.startswith("gw"):
            return RedisServer(url=make_url_redis(external, int(worker[2:]) + 1))
        return RedisServer(url=external)
    server = EmbeddedRedis(TEST_DATA / f"redis-{os.getpid()}", free_port(), durable=False)
    server.start()
    return RedisServer(url=server.url, server=server)


@dataclass
class Worker:
    """A process of ours (worker or relay) and its JSON log."""

    proc: subprocess.Popen[bytes]
    log_path: Path

    def log_lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out

    def trouble(self, lines: int = 25) -> str:
        """The log's last warnings and errors, and what it last did, for a failure message."""
        picked = [
            f"{x.get('timestamp', '')} {x.get('level', '')} {x.get('event', '')}"[:300]
            for x in self.log_lines()
            if x.get("level") in ("warning", "error", "critical")
            or str(x.get("event", "")).startswith("Task ")
        ]
        return "\n".join(picked[-lines:])


@contextmanager
def run_worker(env: dict[str, str], log_dir: Path, redis_url: str) -> Iterator[Worker]:
    log_path = log_dir / f"worker-{uuid.uuid4().hex[:8]}.log"
    proc = spawn(
        [sys.executable, "-m", "pms", "worker", "--concurrency", "1"],
        log_path=log_path,
        env={**os.environ, **env},
        cwd=REPO,
    )
    client = redis.Redis.from_url(redis_url)
    try:
        wait_for(
            lambda: proc.poll() is not None or list(client.scan_iter("pms:worker:heartbeat:*")),
            timeout=60,
            what="the worker's heartbeat",
        )
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited: {log_path.read_text()[-2000:]}")
        yield Worker(proc, log_path)
    finally:
        stop(proc, signal.SIGTERM, timeout=20)
        client.close()


@contextmanager
def run_relay(env: dict[str, str], log_dir: Path) -> Iterator[Worker]:
    """``pms relay`` as its own process, once it listens for NOTIFY."""
    log_path = log_dir / f"relay-{uuid.uuid4().hex[:8]}.log"
    proc = spawn(
        [sys.executable, "-m", "pms", "relay"],
        log_path=log_path,
        env={**os.environ, **env},
        cwd=REPO,
    )
    relay = Worker(proc, log_path)
    try:
        wait_for(
            lambda: (
                proc.poll() is not None
                or any(line.get("event") == "relay_listening" for line in relay.log_lines())
            ),
            timeout=60,
            what="the relay to listen",
        )
        if proc.poll() is not None:
            raise RuntimeError(f"relay exited: {log_path.read_text()[-2000:]}")
        yield relay
    finally:
        stop(proc, signal.SIGTERM, timeout=20)


@contextmanager
def run_api(env: dict[str, str], log_dir: Path) -> Iterator[str]:
    """``pms api`` as its own process (its own caches), once it answers; yields its base URL.

    ``free_port`` hands out a port of the ephemeral range, which any outgoing connection made
    before the API binds it may take as its local port: the API then exits at once with
    "address already in use", and is started again on another port."""
    for attempt in range(3):
        port = free_port()
        log_path = log_dir / f"api-{port}.log"
        proc = spawn(
            [sys.executable, "-m", "pms", "api", "--host", "127.0.0.1", "--port", str(port)],
            log_path=log_path,
            env={**os.environ, **env},
            cwd=REPO,
        )
        url = f"http://127.0.0.1:{port}"

        def answers(proc: subprocess.Popen[bytes] = proc, url: str = url) -> bool:
            if proc.poll() is not None:
                return True
            try:
                return httpx.get(f"{url}/health/live", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        try:
            wait_for(answers, timeout=60, what="the API to answer")
        except BaseException:
            stop(proc, signal.SIGTERM, timeout=20)
            raise
        if proc.poll() is None:
            break
        log = log_path.read_text()
        if "address already in use" not in log or attempt == 2:
            raise RuntimeError(f"api exited: {log[-2000:]}")
    try:
        yield url
    finally:
        stop(proc, signal.SIGTERM, timeout=20)
