"""The Airbnb simulator on a loopback port, the app over real HTTP (for webhooks), a relay and
a worker, with settings that make the engine quick to observe."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.sandbox.conftest import Served, serve


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Served]:
    served = serve("pms.sandbox.app:create_app", factory=True)
    yield served
    served.stop()


def channel_env(sandbox_url: str) -> dict[str, str]:
    """Settings that point the adapters at the simulator and make the engine quick to observe."""
    return {
        "AIRBNB_API_BASE": f"{sandbox_url}/airbnb",
        "GOOGLE_API_BASE": f"{sandbox_url}/google",
        "VRBO_API_BASE": f"{sandbox_url}/vrbo",
        "GOOGLE_REQUESTS_PER_SECOND": "100",
        "GOOGLE_BURST": "100",
        "CHANNEL_DEBOUNCE_SECONDS": "0.05",
        "CHANNEL_RETRY_BASE_SECONDS": "0.05",
        "CHANNEL_RETRY_MAX_SECONDS": "1",
        "CHANNEL_HTTP_TIMEOUT_SECONDS": "2",
        "CHANNEL_BREAKER_COOLDOWN_SECONDS": "1",
        "CHANNEL_MAX_ATTEMPTS": "3",
        "AIRBNB_REQUESTS_PER_SECOND": "50",
        "AIRBNB_BURST": "50",
        "BOOKING_API_BASE": f"{sandbox_url}/booking",
        "BOOKING_AUTH_URL": f"{sandbox_url}/booking/token-based-authentication/exchange",
        "BOOKING_REQUESTS_PER_SECOND": "50",
        "BOOKING_BURST": "50",
        "EXPEDIA_API_BASE": f"{sandbox_url}/expedia",
        "EXPEDIA_REQUESTS_PER_SECOND": "50",
        "EXPEDIA_BURST": "50",
    }


@pytest.fixture(autouse=True)
def _channel_settings(monkeypatch: pytest.MonkeyPatch, sandbox_server: Served) -> None:
    """Before ``settings`` reads the environment (and before worker and relay start)."""
    for k, v in channel_env(sandbox_server.url).items():
        monkeypatch.setenv(k, v)


@pytest.fixture
def api_url(settings: object, tmp_path: object) -> Iterator[str]:
    """``pms api`` as its own process (webhooks from the simulator arrive here)."""
    import os
    from pathlib import Path

    from tests.services import run_api

    env = {k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL", "ENVIRONMENT", "DATA_DIR")}
    assert isinstance(tmp_path, Path)
    with run_api(env, tmp_path) as url:
        yield url


@pytest.fixture
async def api(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as c:
        yield c
