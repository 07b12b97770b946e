"""E-mail tasks: send one queued e-mail (retried with backoff), and the beat sweep of due ones."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from celery import Task

from pms.core.outbox import EventMessage
from pms.direct import emails
from pms.logs import get_logger
from pms.tasks import consumers, runtime
from pms.tasks.app import celery_app

_log = get_logger("pms.tasks.emails")

# A retry is scheduled a little after the row's next attempt is due, so the row is never found
# "not yet due" because of clock granularity (the sweep would still send it, only later).
_DUE_MARGIN_SECONDS = 0.25


@celery_app.task(name="pms.emails.send", bind=True, max_retries=None)
def send_email(self: Task[Any, Any], email_id: str) -> str:
    """Idempotent: a row already sent, failed, being sent by another worker, or not yet due is
    skipped. The attempt count and the backoff live in the row, not in Celery."""
    result = runtime.run(emails.send_queued_email(uuid.UUID(email_id)))
    if result.status == "retry" and result.retry_in is not None:
        raise self.retry(countdown=result.retry_in + _DUE_MARGIN_SECONDS)
    return result.status


@celery_app.task(name="pms.emails.sweep")
def sweep_emails() -> int:
    """Hand every due queued e-mail to a send task (safety net behind the outbox relay)."""
    due = runtime.run(emails.due_email_ids())
    for email_id in due:
        send_email.delay(str(email_id))
    if due:
        _log.info("email_sweep", dispatched=len(due))
    return len(due)


@consumers.register("email.queued")
async def _send_when_queued(event: EventMessage) -> None:
    """The relay carries ``email.queued`` here as soon as the e-mail's transaction commits, so
    guests hear within seconds; the sweep above is only the safety net."""
    await asyncio.to_thread(send_email.delay, str(event["payload"]["email_id"]))
