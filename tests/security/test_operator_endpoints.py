"""No endpoint lets an anonymous caller hold server resources: the former
`POST /api/v1/system/ping-worker` (anyone, up to 5 s of a thread each) is gone; `/health/ready`
covers the worker."""

from __future__ import annotations

import httpx


async def test_ping_worker_is_gone(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/system/ping-worker")
    assert r.status_code == 404
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith("/api/v1/system")]


async def test_readiness_still_reports_the_worker(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/ready")
    assert r.status_code == 503  # no worker runs in this test
    assert r.json()["checks"]["worker"] != "ok"
