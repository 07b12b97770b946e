"""Outbox tasks: dispatch a published batch of events to their consumers, in order; sweep for
unpublished events (scheduled by beat, so events are published even while no ``pms relay``
runs).

A handler that fails (the database restarting, a lock timeout, the broker away for a moment)
does not lose its event: ``consume`` has released the event's claim, and the event goes on
alone, as a ``dispatch`` task retried with a growing delay (1 s, 2 s, 4 s … up to
``MAX_RETRY_DELAY_SECONDS``), running the event's handlers again; they are idempotent. The
rest of its batch is consumed meanwhile. Only after ``MAX_RETRIES`` attempts (about two hours)
does the task fail for good, and Celery logs it as failed. A worker lost in the middle of a
batch has the whole batch redelivered (late acknowledgement): the events it had consumed are
recognised by their ids and skipped.
"""

from __future__ import annotations

from typing import Any

from pms.core.outbox import DISPATCH_BATCH_TASK, DISPATCH_TASK, EventMessage
from pms.logs import get_logger, request_id
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


@celery_app.task(name=DISPATCH_BATCH_TASK, ignore_result=True)
def dispatch_batch(events: list[EventMessage]) -> list[str]:
    """The relay's batch, in order. An event that fails or is held by another delivery goes
    on alone as ``dispatch`` (its first retry), after the rest of the batch was consumed."""
    outcomes: list[str] = []
    later: list[tuple[EventMessage, int]] = []
    for event in events:
        with request_id(event["request_id"]):
            try:
                outcome = consumers.consume(event)
            except Exception as exc:  # noqa: BLE001 - retried alone, below
                delay = retry_delay(0)
                _log.warning(
                    "outbox_event_failed",
                    event_id=event["event_id"],
                    type=event["type"],
                    error=type(exc).__name__,
                    attempt=1,
                    retry_in=delay,
                )
                later.append((event, delay))
                outcomes.append("retry")
                continue
        if outcome is consumers.Outcome.IN_FLIGHT:
            later.append((event, IN_FLIGHT_RETRY_SECONDS))
        outcomes.append(outcome.value)
    for event, countdown in later:
        # As the dispatch's first retry: the attempts count on from there.
        with request_id(event["request_id"]):
            celery_app.send_task(
                DISPATCH_TASK,
                args=[event],
                task_id=event["event_id"],
                countdown=countdown,
                retries=1,
                ignore_result=True,
            )
    return outcomes


@celery_app.task(name="pms.outbox.sweep", ignore_result=True)
def sweep() -> int:
    return runtime.run(relay.sweep_once())
