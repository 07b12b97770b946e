"""The team's web app end to end: Playwright drives Debian's Chromium through the flows of
``web/e2e`` against the real API, worker, relay, PostgreSQL and Redis that this suite starts.
Screenshots of every step are kept under .data/test/web-artifacts."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from pms.direct.smtp_sink import SmtpSink
from pms.embedded import web
from pms.embedded.process import free_port, spawn, stop
from pms.sandbox.stripe_fake import dev_environment as stripe_dev_environment
from pms.settings import Settings
from tests.services import REPO, TEST_DATA, run_api, run_relay, run_worker, wait_for

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# WEB_E2E_SPECS="15-property-photos 14-channel" runs only the specs whose file names match.
SPECS = os.environ.get("WEB_E2E_SPECS", "").split()
ARTIFACTS = TEST_DATA / "web-artifacts"
MAIL = TEST_DATA / "web-mail"


class Stack(NamedTuple):
    web: str
    api: str
    sandbox: str


pytestmark = [
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"web e2e skipped: no Chromium at {CHROMIUM} (apt-get install -y chromium)",
    ),
    pytest.mark.skipif(
        shutil.which("node") is None or shutil.which("npm") is None,
        reason="web e2e skipped: Node.js (node, npm) is not installed",
    ),
]


def _env(settings: Settings) -> dict[str, str]:
    return {
        "DATABASE_URL": settings.require_database_url(),
        "REDIS_URL": settings.require_redis_url(),
        "ENVIRONMENT": "test",
        "DATA_DIR": str(settings.data_dir),
        # The guest specs book many stays from one address within a few minutes.
        "PUBLIC_REQUESTS_PER_MINUTE_PER_IP": "5000",
        "PUBLIC_ACTIVE_HOLDS_PER_IP": "50",
        "PUBLIC_ACTIVE_HOLDS_PER_EMAIL": "50",
        # Every spec signs up its own agency from this one address, more than 20 an hour.
        "SIGNUP_ATTEMPTS_PER_IP": "500",
    }


@contextmanager
def _sandbox(env: dict[str, str], log_dir: Path) -> Iterator[str]:
    """The channel sandbox with its fake Stripe (API, webhooks, hosted payment page)."""
    port = free_port()
    proc = spawn(
        [sys.executable, "-m", "pms", "sandbox", "--port", str(port)],
        log_path=log_dir / "sandbox.log",
        env={**os.environ, **env},
        cwd=REPO,
    )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"sandbox exited: {(log_dir / 'sandbox.log').read_text()[-2000:]}")
        try:
            return httpx.get(f"{url}/stripe/control/events", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(answers, timeout=60, what="the sandbox to answer")
        yield url
    finally:
        stop(proc, signal.SIGTERM, timeout=20)


@pytest.fixture
def stack(settings: Settings, tmp_path: Path) -> Iterator[Stack]:
    """API, worker, relay and the sandbox (fake Stripe) as processes, an SMTP sink writing
    .eml files to MAIL, and the built web app."""
    web.prepare(log=tmp_path / "web-build.log")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    shutil.rmtree(MAIL, ignore_errors=True)
    sink = SmtpSink("127.0.0.1", free_port(), MAIL)
    sink.start()
    env = {**_env(settings), "SMTP_PORT": str(sink.port), "BOOKING_SITE_URL": url}
    with _sandbox(env, tmp_path) as sandbox, _stopping(sink):
        env.update(stripe_dev_environment(sandbox))
        with (
            run_api(env, tmp_path) as api,
            run_relay(env, tmp_path),
            run_worker(env, tmp_path, settings.require_redis_url()),
        ):
            httpx.post(
                f"{sandbox}/stripe/control/config",
                json={"webhook_url": f"{api}/api/v1/webhooks/stripe"},
                timeout=5,
            ).raise_for_status()
            yield from _web(url, port, api, sandbox, tmp_path)


@contextmanager
def _stopping(sink: SmtpSink) -> Iterator[None]:
    try:
        yield
    finally:
        sink.stop()


def _web(url: str, port: int, api: str, sandbox: str, tmp_path: Path) -> Iterator[Stack]:
    proc = spawn(
        web.start_argv("127.0.0.1", port),
        log_path=tmp_path / "web.log",
        env={**os.environ, "API_URL": api, "NEXT_TELEMETRY_DISABLED": "1"},
        cwd=web.WEB_DIR,
    )

    def answers() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"web exited: {(tmp_path / 'web.log').read_text()[-2000:]}")
        try:
            return httpx.get(f"{url}/login", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(answers, timeout=60, what="the web app to answer")
        yield Stack(url, api, sandbox)
    finally:
        stop(proc, signal.SIGTERM, timeout=20)


def test_web_flows_in_chromium(stack: Stack) -> None:
    url, api, sandbox = stack
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    result = subprocess.run(
        [str(web.WEB_DIR / "node_modules" / ".bin" / "playwright"), "test", *SPECS],
        cwd=web.WEB_DIR,
        env={
            **os.environ,
            "WEB_URL": url,
            "API_URL": api,
            "SANDBOX_URL": sandbox,
            "MAIL_DIR": str(MAIL),
            "ARTIFACTS_DIR": str(ARTIFACTS),
            "CHROMIUM_PATH": str(CHROMIUM),
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    (ARTIFACTS / "playwright.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    screenshots = list(ARTIFACTS.rglob("*.png"))
    wanted = 1 if SPECS else 20
    assert len(screenshots) >= wanted, f"expected a screenshot per step, found {len(screenshots)}"
