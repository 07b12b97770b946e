"""System endpoints for operators."""

from __future__ import annotations

import asyncio
import contextvars
import time
from typing import Any

from celery.exceptions import TimeoutError as CeleryTimeout
from fastapi import APIRouter
from pydantic import BaseModel

from pms.core.errors import DomainError
from pms.tasks.system import echo


def _ping_roundtrip() -> dict[str, Any]:
    answer: dict[str, Any] = echo.delay({"ping": True}).get(timeout=5)
    return answer


router = APIRouter(prefix="/system", tags=["system"])


class WorkerPing(BaseModel):
    request_id: str | None
    roundtrip_ms: float


class WorkerUnavailable(DomainError):
    status = 503
    code = "worker-unavailable"
    title = "No worker answered"


@router.post(
    "/ping-worker",
    summary="Send a task through the broker and wait for a worker to answer it",
    response_model=WorkerPing,
    responses={503: {"description": "No worker answered within 5 seconds"}},
)
async def ping_worker() -> WorkerPing:
    started = time.perf_counter()
    # Publishing and waiting are blocking calls: both stay off the event loop.
    context = contextvars.copy_context()  # carries the request id into the publish signal
    try:
        answer = await asyncio.to_thread(context.run, _ping_roundtrip)
    except CeleryTimeout:
        raise WorkerUnavailable("No worker picked up the ping within 5 seconds.") from None
    return WorkerPing(
        request_id=answer.get("request_id"),
        roundtrip_ms=round((time.perf_counter() - started) * 1000, 2),
    )
