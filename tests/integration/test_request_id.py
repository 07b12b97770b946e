"""X-Request-Id goes in and out, and follows work from the API into a Celery task's log lines."""

from __future__ import annotations

import httpx

from pms.logs import request_id_var
from tests.services import Worker, wait_for


async def test_request_id_is_echoed_or_minted(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/live", headers={"X-Request-Id": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    minted = (await client.get("/health/live")).headers["x-request-id"]
    assert len(minted) == 32


async def test_unprintable_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/live", headers={"X-Request-Id": "x" * 500})
    assert r.headers["x-request-id"] != "x" * 500


def test_request_id_reaches_the_task_and_its_log_lines(worker: Worker) -> None:
    """A task published while a request is handled carries its id (the publish signal), and the
    worker binds it to the task's log lines. (A request's outbox events carry it too:
    tests/integration/test_outbox_relay.py.)"""
    from pms.tasks.system import echo  # the Celery app reads the test's settings when imported

    token = request_id_var.set("trace-42")
    try:
        answer = echo.delay({"ping": True}).get(timeout=30)
    finally:
        request_id_var.reset(token)
    assert answer["request_id"] == "trace-42"

    def echo_logged() -> list[dict[str, object]]:
        return [
            line
            for line in worker.log_lines()
            if line.get("event") == "echo" and line.get("request_id") == "trace-42"
        ]

    lines = wait_for(echo_logged, timeout=10, what="the task's log line")
    assert lines[0]["task"] == "pms.system.echo"
