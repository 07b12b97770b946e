"""Finding 5: killing one process of `pms dev` (the API, SIGKILL) no longer stops the others:
the supervisor starts it again, says so in its output and on /health/ready, and everything stops
only on SIGTERM, leaving nothing behind."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.test_dev_command import _alive, _env, _start, _tree
from tests.services import wait_for

pytestmark = pytest.mark.timeout(300)


def _ready(api: str) -> dict[str, object] | None:
    try:
        r = httpx.get(f"{api}/health/ready", timeout=5)
    except httpx.HTTPError:
        return None
    body: dict[str, object] = r.json()
    return body if r.status_code == 200 else None


def _the_api(pid: int) -> psutil.Process:
    found = [p for p in _tree(pid) if "pms api" in " ".join(p.cmdline())]
    assert len(found) == 1, found
    return found[0]


def test_a_killed_api_is_restarted_and_the_rest_keeps_running(tmp_path: Path) -> None:
    env = _env(tmp_path / "data")
    out = tmp_path / "dev.out"
    dev = _start(env, out, "--no-seed")
    api = f"http://127.0.0.1:{env['API_PORT']}"
    try:
        wait_for(
            lambda: dev.poll() is not None or "Press Ctrl-C" in out.read_text(), 180, "pms dev"
        )
        assert dev.poll() is None, out.read_text()
        first = wait_for(lambda: _ready(api), 60, "readiness")
        assert first["processes"]["api"]["restarts"] == 0  # type: ignore[index]
        # The processes `pms dev` started itself (not, say, PostgreSQL's per-connection ones).
        others = {p.pid for p in psutil.Process(dev.pid).children()} - {_the_api(dev.pid).pid}
        assert len(others) >= 6  # postgres, redis, smtp sink, sandbox, worker, beat, relay

        _the_api(dev.pid).kill()

        def restarted() -> dict[str, object] | None:
            body = _ready(api)
            if body is None:
                return None
            return body if body["processes"]["api"]["restarts"] == 1 else None  # type: ignore[index]

        body = wait_for(restarted, 60, "the API to be restarted and ready")
        api_status = body["processes"]["api"]  # type: ignore[index]
        assert api_status["state"] == "running"
        assert api_status["last_exit_code"] == -signal.SIGKILL
        text = out.read_text()
        assert "api exited with code -9; restarting in 1 s" in text
        assert "api started again (restart 1)" in text
        assert dev.poll() is None
        # Nothing else was stopped or restarted: the same processes still run.
        still = {p.pid for p in psutil.Process(dev.pid).children()}
        assert others <= still, text
    finally:
        procs = _tree(dev.pid) if dev.poll() is None else []
        dev.send_signal(signal.SIGTERM)
        assert dev.wait(60) == 0
    assert "stopped." in out.read_text()
    assert _alive(procs) == []
