"""Health endpoints: liveness, readiness naming what failed, metrics by route template."""

from __future__ import annotations

import httpx
import pytest

from pms.embedded.process import free_port
from tests.services import Worker


async def test_live_answers_without_dependencies(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/live")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_ready_is_503_naming_the_worker_when_none_runs(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/ready")
    assert r.status_code == 503
    body = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert body["failed"] == ["worker"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == "ok"


async def test_ready_is_200_with_a_live_worker(client: httpx.AsyncClient, worker: Worker) -> None:
    r = await client.get("/health/ready")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"database": "ok", "redis": "ok", "worker": "ok"}


async def test_ready_is_503_naming_redis_when_redis_is_down(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pms import redis_client
    from pms.settings import reset_settings_cache

    await redis_client.close_redis()
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
    reset_settings_cache()
    r = await client.get("/health/ready")
    assert r.status_code == 503
    body = r.json()
    assert "redis" in body["failed"]
    assert "database" not in body["failed"]
    assert "redis" in body["detail"]


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/health/live")
    await client.get("/no/such/path")
    text = (await client.get("/metrics")).text
    assert 'pms_http_requests_total{method="GET",route="/health/live",status="200"}' in text
    assert 'route="unmatched",status="404"' in text
    assert "pms_http_request_duration_seconds_bucket" in text
