"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from pms.api.problems import problem
from pms.channel import metrics as channel_metrics
from pms.db import get_engine
from pms.redis_client import get_redis
from pms.tasks.heartbeat import HEARTBEAT_PREFIX

router = APIRouter(tags=["health"])

_CHECK_TIMEOUT = 2.0


@router.get("/health/live", summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "ok"}


async def _check_database() -> None:
    async with get_engine().connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _check_redis() -> None:
    await get_redis().ping()


async def _check_worker() -> None:
    async for _ in get_redis().scan_iter(match=f"{HEARTBEAT_PREFIX}*", count=100):
        return
    raise RuntimeError("no worker heartbeat")


@router.get(
    "/health/ready",
    summary="Database, Redis and at least one worker are reachable",
    responses={503: {"description": "A dependency is down; `failed` names it"}},
)
async def ready() -> Response:
    checks = {"database": _check_database, "redis": _check_redis, "worker": _check_worker}
    results: dict[str, Any] = {}

    async def run(name: str) -> None:
        try:
            await asyncio.wait_for(checks[name](), _CHECK_TIMEOUT)
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            results[name] = f"failed: {type(exc).__name__}"

    await asyncio.gather(*(run(n) for n in checks))
    failed = sorted(n for n, r in results.items() if r != "ok")
    if failed:
        if "redis" in failed and "worker" in failed:
            # Without Redis no heartbeat can be read; the worker's state is unknown, not failed.
            results["worker"] = "unknown: redis unreachable"
            failed.remove("worker")
        return problem(
            503,
            title="Service not ready",
            detail=f"Not ready: {', '.join(failed)} unavailable.",
            type_="/problems/not-ready",
            failed=failed,
            checks=results,
        )
    return JSONResponse({"status": "ok", "checks": results})


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics() -> Response:
    await channel_metrics.refresh_gauges()
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
