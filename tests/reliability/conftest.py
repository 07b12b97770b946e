"""Fixtures for failure tests: a Redis of the module's own, which a test may pause (SIGSTOP)
without stalling the rest of the suite, and an API process a test may kill and restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis

from pms.embedded.process import free_port, stop
from pms.embedded.redis import EmbeddedRedis
from pms.settings import Settings
from tests.services import REPO, TEST_DATA, RedisServer, wait_for


@pytest.fixture(scope="module")
def own_redis() -> Iterator[RedisServer]:
    server = EmbeddedRedis(TEST_DATA / f"redis-own-{os.getpid()}", free_port(), durable=False)
    server.start()
    yield RedisServer(url=server.url, server=server)
    server.stop()


@pytest.fixture
def redis_timeout_seconds() -> float:
    """Overrides the suite's: a stalled Redis is answered after the production second."""
    default: float = Settings.model_fields["redis_timeout_seconds"].default
    return default


@pytest.fixture
def redis_url(own_redis: RedisServer) -> str:
    """Overrides the suite's: this module's app talks to ``own_redis``."""
    client = redis.Redis.from_url(own_redis.url)
    client.flushdb()
    client.close()
    return own_redis.url


@contextmanager
def paused(server: RedisServer) -> Iterator[None]:
    """Redis stalls: its process is stopped (connections stay open, nothing answers)."""
    pid = server.server.pid if server.server else None
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


class ApiProcess:
    """``pms api`` as its own process on a fixed port, which a test may kill (SIGKILL) and
    start again on the same port, as a supervisor would."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = {**os.environ, **env}
        self.log_dir = log_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log_path = self.log_dir / f"api-{self.port}-{self.starts}.log"
        argv = [sys.executable, "-m", "pms", "api", "--host", "127.0.0.1", "--port"]
        # Plain Popen (no preexec_fn, so vfork): a full fork of this big test process would
        # hold the GIL long enough to stall the clients' event loop.
        with log_path.open("ab") as log:
            proc = subprocess.Popen(
                [*argv, str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=REPO,
                start_new_session=True,
            )
        self.proc = proc

        def answers() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"api exited: {log_path.read_text()[-2000:]}")
            try:
                return httpx.get(f"{self.url}/health/live", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(answers, timeout=60, what="the API to answer")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL: no shutdown, requests in flight are cut off
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop(self.proc, signal.SIGTERM, timeout=20)


@pytest.fixture
def api_process(settings: Settings, tmp_path: Path) -> Iterator[ApiProcess]:
    keys = ("DATABASE_URL", "REDIS_URL", "ENVIRONMENT", "DATA_DIR")
    api = ApiProcess({k: os.environ[k] for k in keys}, tmp_path)
    api.start()
    yield api
    api.stop()
