"""Outbox tasks: dispatch one published event to its consumers; sweep for unpublished events
(scheduled by beat, so events are published even while no ``pms relay`` runs).

A handler that fails (the database restarting, a lock timeout, the broker away for a moment)
does not lose its event: ``consume`` has released the event's claim, and the dispatch is retried
with a growing delay (1 s, 2 s, 4 s … up to ``MAX_RETRY_DELAY_SECONDS``), running the event's
handlers again; they are idempotent. Only after ``MAX_RETRIES`` attempts (about two hours) does
the task fail for good, and Celery logs it as failed.
"""

from __future__ import annotations

from typing import Any

from pms.core.outbox import DISPATCH_TASK, EventMessage
from pms.logs import get_logger
from pms.tasks import consumers, relay, runtime
from pms.tasks.app import celery_app

IN_FLIGHT_RETRY_SECONDS = 30
MAX_RETRIES = 30
MAX_RETRY_DELAY_SECONDS = 300

_log = get_logger("pms.tasks.outbox")


def retry_delay(attempt: int) -> int:
    """Seconds before retry number ``attempt + 1`` of a failed dispatch."""
    return int(min(MAX_RETRY_DELAY_SECONDS, 2**attempt))


@celery_app.task(name=DISPATCH_TASK, bind=True, max_retries=MAX_RETRIES, ignore_result=True)
def dispatch(self: Any, event: EventMessage) -> str:
    try:
        outcome = consumers.consume(event)
    except Exception as exc:
        delay = retry_delay(self.request.retries)
        # The exception's type only: its text may quote a statement or a connection string.
        _log.warning(
            "outbox_event_failed",
            event_id=event["event_id"],
            type=event["type"],
            error=type(exc).__name__,
            attempt=self.request.retries + 1,
            retry_in=delay,
        )
        raise self.retry(exc=exc, countdown=delay) from exc
    if outcome is consumers.Outcome.IN_FLIGHT:
        raise self.retry(countdown=IN_FLIGHT_RETRY_SECONDS)
    return outcome.value


@celery_app.task(name="pms.outbox.sweep", ignore_result=True)
def sweep() -> int:
    return runtime.run(relay.sweep_once())
