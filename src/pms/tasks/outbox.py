"""Outbox tasks: dispatch one published event to its consumers; sweep for unpublished events
(scheduled by beat, so events are published even while no ``pms relay`` runs)."""

from __future__ import annotations

from typing import Any

from pms.core.outbox import DISPATCH_TASK, EventMessage
from pms.tasks import consumers, relay, runtime
from pms.tasks.app import celery_app

IN_FLIGHT_RETRY_SECONDS = 30


@celery_app.task(name=DISPATCH_TASK, bind=True, max_retries=20, ignore_result=True)
def dispatch(self: Any, event: EventMessage) -> str:
    outcome = consumers.consume(event)
    if outcome is consumers.Outcome.IN_FLIGHT:
        raise self.retry(countdown=IN_FLIGHT_RETRY_SECONDS)
    return outcome.value


@celery_app.task(name="pms.outbox.sweep", ignore_result=True)
def sweep() -> int:
    return runtime.run(relay.sweep_once())
