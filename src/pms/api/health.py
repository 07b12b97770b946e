"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from pms.api.idempotency import IdempotentRoute
from pms.api.problems import problem
from pms.channel import metrics as channel_metrics
from pms.db import get_engine
from pms.embedded import status
from pms.heartbeats import HEARTBEAT_PREFIX
from pms.redis_client import get_redis

router = APIRouter(route_class=IdempotentRoute, tags=["health"])

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


async def _supervised() -> dict[str, dict[str, Any]]:
    """The processes ``pms dev`` supervises, with their restarts (none under systemd)."""
    try:
        raw = await asyncio.wait_for(get_redis().hgetall(status.KEY), _CHECK_TIMEOUT)
    except Exception:  # noqa: BLE001 - Redis trouble is the redis check's to report
        return {}
    return status.parse(raw)


@router.get(
    "/health/ready",
    summary="Database, Redis and at least one worker are reachable",
    description="Under `pms dev`, `processes` lists each supervised process with its state "
    "(`running` or `restarting`), restarts and last exit; a process waiting to be restarted "
    "makes the answer a 503.",
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

    processes, *_ = await asyncio.gather(_supervised(), *(run(n) for n in checks))
    extra: dict[str, Any] = {"processes": processes} if processes else {}
    down = sorted(n for n, p in processes.items() if p.get("state") != "running")
    if processes:
        results["processes"] = f"failed: {', '.join(down)} restarting" if down else "ok"
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
            **extra,
        )
    return JSONResponse({"status": "ok", "checks": results, **extra})


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics() -> Response:
    await channel_metrics.refresh()
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
