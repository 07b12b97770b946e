"""X-Request-Id goes in and out, and follows work from the API into a Celery task's log lines."""

from __future__ import annotations

import httpx

from tests.factories import full_agency
from tests.services import Worker, wait_for


async def test_request_id_is_echoed_or_minted(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/live", headers={"X-Request-Id": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    minted = (await client.get("/health/live")).headers["x-request-id"]
    assert len(minted) == 32


async def test_unprintable_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/live", headers={"X-Request-Id": "x" * 500})
    assert r.headers["x-request-id"] != "x" * 500


async def test_request_id_reaches_the_task_and_its_log_lines(
    client: httpx.AsyncClient, worker: Worker, relay: Worker
) -> None:
    """A write's request id is stored with its outbox event, and the relay hands it to the
    Celery task that handles the event: the worker's log lines carry it."""
    a = await full_agency(client)
    r = await client.post(
        "/api/v1/blocks",
        json={"property_id": a.property_id, "start": "2031-02-01", "end": "2031-02-03"},
        headers={**a.auth(), "X-Request-Id": "trace-42"},
    )
    assert r.status_code == 201, r.text

    def processed() -> list[dict[str, object]]:
        return [
            line
            for line in worker.log_lines()
            if line.get("event") == "outbox_event_processed"
            and line.get("request_id") == "trace-42"
        ]

    lines = wait_for(processed, timeout=30, what="the task's log line")
    # The relay's batch: each event's own request id is bound while it is consumed.
    assert lines[0]["task"] == "pms.outbox.dispatch_batch"
