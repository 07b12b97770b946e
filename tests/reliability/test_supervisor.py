"""Finding 5 (the parts): `pms dev`'s supervisor restarts a process that dies, after a backoff
that grows while it keeps crashing, logs it, and publishes it for /health/ready. Real child
processes; the supervisor's clock is passed in, so nothing sleeps."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from pms.embedded.status import KEY, StatusBoard, parse
from pms.embedded.supervisor import BACKOFF_MAX_SECONDS, STABLE_SECONDS, Supervisor, backoff
from pms.settings import Settings
from tests.services import wait_for

CRASH = [sys.executable, "-c", "import sys; sys.exit(3)"]
RUN = [sys.executable, "-c", "import time; time.sleep(600)"]


@pytest.fixture
def lines() -> list[str]:
    return []


@pytest.fixture
def supervisor(tmp_path: Path, lines: list[str], redis_url: str) -> Iterator[Supervisor]:
    s = Supervisor(tmp_path / "logs", lines.append, StatusBoard(redis_url))
    yield s
    s.stop_all()


def _exited(s: Supervisor, name: str) -> bool:
    child = next(c for c in s.children if c.name == name)
    return child.proc is not None and child.proc.poll() is not None


def _published(redis_url: str) -> dict[str, dict[str, object]]:
    client = redis.Redis.from_url(redis_url)
    try:
        return parse(client.hgetall(KEY))
    finally:
        client.close()


def test_backoff_doubles_up_to_its_cap() -> None:
    assert [backoff(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff(50) == BACKOFF_MAX_SECONDS


def test_a_crashed_child_is_restarted_after_its_backoff_and_the_others_keep_running(
    supervisor: Supervisor, lines: list[str], redis_url: str
) -> None:
    steady = supervisor.start("steady", RUN)
    crashy = supervisor.start("crashy", CRASH)
    assert steady.proc is not None
    steady_pid = steady.proc.pid
    t = 1000.0
    for expected_delay in (1, 2, 4):
        crashy.started_at = t  # it crashed right after its start
        wait_for(lambda: _exited(supervisor, "crashy"), 20, "the child to exit")
        supervisor.check(t)
        assert crashy.restart_at == t + expected_delay
        assert _published(redis_url)["crashy"]["state"] == "restarting"
        assert f"crashy exited with code 3; restarting in {expected_delay} s" in lines[-1]
        supervisor.check(t + expected_delay - 0.1)
        assert crashy.restart_at is not None  # still waiting
        supervisor.check(t + expected_delay)
        assert crashy.restart_at is None
        assert "crashy started again" in lines[-1]
        t += expected_delay
    assert crashy.restarts == 3
    status = _published(redis_url)
    assert status["crashy"] == {
        "state": "running",
        "restarts": 3,
        "last_exit_code": 3,
        "last_exit_at": crashy.last_exit_at,
    }
    # The steady process was never touched.
    assert steady.proc.pid == steady_pid
    assert steady.proc.poll() is None
    assert status["steady"]["restarts"] == 0

    # A crash after a long stable run starts the series again at 1 s.
    crashy.started_at = t - STABLE_SECONDS
    wait_for(lambda: _exited(supervisor, "crashy"), 20, "the child to exit")
    supervisor.check(t)
    assert crashy.restart_at == t + 1


def test_a_stop_stops_everything_and_clears_the_board(
    supervisor: Supervisor, redis_url: str
) -> None:
    procs = [supervisor.start(n, RUN).proc for n in ("a", "b")]
    assert set(_published(redis_url)) == {"a", "b"}
    supervisor.request_stop()
    supervisor.watch()  # returns at once: a stop was requested
    supervisor.stop_all()
    assert all(p is not None and p.poll() is not None for p in procs)
    assert _published(redis_url) == {}


async def test_readiness_shows_supervised_processes(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    board = StatusBoard(settings.require_redis_url())
    try:
        board.publish("api", {"state": "running", "restarts": 1, "last_exit_code": -9})
        board.publish("relay", {"state": "restarting", "restarts": 2, "last_exit_code": 1})
        r = await client.get("/health/ready")
        body = r.json()
        assert r.status_code == 503
        assert "processes" in body["failed"]
        assert body["checks"]["processes"] == "failed: relay restarting"
        assert body["processes"]["api"]["restarts"] == 1
        assert body["processes"]["relay"]["state"] == "restarting"
    finally:
        board.clear()
        board.close()
    r = await client.get("/health/ready")
    assert "processes" not in r.json()
