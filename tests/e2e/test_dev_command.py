"""`pms dev` starts everything, answers, and leaves no process behind; one data dir, one owner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from pms.embedded.postgres import EmbeddedPostgres
from pms.embedded.process import free_port
from pms.embedded.redis import EmbeddedRedis
from tests.services import REPO, wait_for

pytestmark = pytest.mark.timeout(240)


@dataclass
class Dev:
    proc: subprocess.Popen[str]
    api: str
    data_dir: Path
    output: Path

    def text(self) -> str:
        return self.output.read_text()


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DATABASE_ADMIN_URL")
    }
    env.update(
        DATA_DIR=str(data_dir),
        API_PORT=str(free_port()),
        SANDBOX_PORT=str(free_port()),
        EMBEDDED_POSTGRES_PORT=str(free_port()),
        EMBEDDED_REDIS_PORT=str(free_port()),
        SMTP_PORT=str(free_port()),
        **extra,
    )
    return env


def _start(env: dict[str, str], output: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pms", "dev", *args],
        cwd=REPO,
        env=env,
        stdout=output.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[Dev]:
    env = _env(tmp_path / "data")
    out = tmp_path / "dev.out"
    proc = _start(env, out, "--no-seed")
    d = Dev(proc, f"http://127.0.0.1:{env['API_PORT']}", tmp_path / "data", out)
    try:
        wait_for(
            lambda: proc.poll() is not None or "Press Ctrl-C" in d.text(), 180, "pms dev to start"
        )
        assert proc.poll() is None, d.text()
        yield d
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)


def _tree(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _alive(procs: list[psutil.Process]) -> list[str]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            continue
    return out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_dev_answers_ready_and_stops_without_leftovers(dev: Dev, sig: signal.Signals) -> None:
    r = httpx.get(f"{dev.api}/health/ready", timeout=5)
    assert r.status_code == 200, r.text
    assert "API docs" in dev.text()
    procs = _tree(dev.proc.pid)
    names = " ".join(" ".join(p.cmdline()) for p in procs)
    for expected in (
        "postgres",
        "redis-server",
        "worker",
        "beat",
        "pms relay",
        "pms api",
        "sandbox",
    ):
        assert expected in names, f"{expected} not running: {names[:500]}"
    dev.proc.send_signal(sig)
    assert dev.proc.wait(60) == 0
    assert "stopped." in dev.text()
    assert _alive(procs) == []


def test_second_dev_on_the_same_data_dir_refuses_clearly(dev: Dev, tmp_path: Path) -> None:
    env = _env(dev.data_dir)
    out = tmp_path / "second.out"
    second = _start(env, out, "--no-seed")
    assert second.wait(60) == 2
    text = out.read_text()
    assert "already running the embedded services" in text
    assert httpx.get(f"{dev.api}/health/ready", timeout=5).status_code == 200


def test_a_killed_run_is_recovered_on_the_next_start(dev: Dev, tmp_path: Path) -> None:
    procs = _tree(dev.proc.pid)
    dev.proc.kill()  # SIGKILL: no cleanup code runs
    dev.proc.wait(10)
    wait_for(lambda: _alive(procs) == [], 30, "children to die with their parent")
    env = _env(dev.data_dir)
    out = tmp_path / "again.out"
    again = _start(env, out, "--no-seed")
    try:
        wait_for(
            lambda: again.poll() is not None or "Press Ctrl-C" in out.read_text(), 120, "restart"
        )
        assert again.poll() is None, out.read_text()
    finally:
        again.send_signal(signal.SIGTERM)
        assert again.wait(60) == 0


def test_external_urls_are_used_instead_of_embedded_services(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "external", free_port(), durable=False)
    rd = EmbeddedRedis(tmp_path / "external", free_port(), durable=False)
    pg.start()
    rd.start()
    try:
        db_url = pg.url.rsplit("/", 1)[0] + "/external_pms"
        env = _env(tmp_path / "data", DATABASE_URL=db_url, REDIS_URL=rd.url)
        out = tmp_path / "dev.out"
        proc = _start(env, out, "--no-seed")
        try:
            wait_for(
                lambda: proc.poll() is not None or "Press Ctrl-C" in out.read_text(), 180, "start"
            )
            assert proc.poll() is None, out.read_text()
            api = f"http://127.0.0.1:{env['API_PORT']}"
            assert httpx.get(f"{api}/health/ready", timeout=5).status_code == 200
            assert not (tmp_path / "data" / "postgres").exists()
            assert not (tmp_path / "data" / "redis").exists()
            assert "PostgreSQL" not in out.read_text()
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(60) == 0
    finally:
        rd.stop()
        pg.stop()
