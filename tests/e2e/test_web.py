"""The team's web app end to end: Playwright drives Debian's Chromium through the flows of
``web/e2e`` against the real API, worker, relay, PostgreSQL and Redis that this suite starts.
Screenshots of every step are kept under .data/test/web-artifacts."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pms.embedded import web
from pms.embedded.process import free_port, spawn, stop
from pms.settings import Settings
from tests.services import TEST_DATA, run_api, run_relay, run_worker, wait_for

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# WEB_E2E_SPECS="15-property-photos 14-channel" runs only the specs whose file names match.
SPECS = os.environ.get("WEB_E2E_SPECS", "").split()
ARTIFACTS = TEST_DATA / "web-artifacts"

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
    }


@pytest.fixture
def stack(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(web URL, API URL): API, worker and relay as processes, and the built web app."""
    web.prepare(log=tmp_path / "web-build.log")
    env = _env(settings)
    with (
        run_api(env, tmp_path) as api,
        run_relay(env, tmp_path),
        run_worker(env, tmp_path, settings.require_redis_url()),
    ):
        port = free_port()
        proc = spawn(
            web.start_argv("127.0.0.1", port),
            log_path=tmp_path / "web.log",
            env={**os.environ, "API_URL": api, "NEXT_TELEMETRY_DISABLED": "1"},
            cwd=web.WEB_DIR,
        )
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"web exited: {(tmp_path / 'web.log').read_text()[-2000:]}")
            try:
                return httpx.get(f"{url}/login", timeout=5).status_code == 200
            except httpx.TransportError:
                return False

        try:
            wait_for(answers, timeout=60, what="the web app to answer")
            yield url, api
        finally:
            stop(proc, signal.SIGTERM, timeout=20)


def test_web_flows_in_chromium(stack: tuple[str, str]) -> None:
    url, api = stack
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    result = subprocess.run(
        [str(web.WEB_DIR / "node_modules" / ".bin" / "playwright"), "test", *SPECS],
        cwd=web.WEB_DIR,
        env={
            **os.environ,
            "WEB_URL": url,
            "API_URL": api,
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
