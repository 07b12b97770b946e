"""iCal polling: beat enqueues due feeds with jitter; each sync is its own idempotent task."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pms.channel.ical import sync
from pms.logs import get_logger
from pms.settings import get_settings
from pms.tasks.app import celery_app
from pms.tasks.runtime import run

_log = get_logger("pms.tasks.ical")


@celery_app.task(name="pms.ical.poll_due", ignore_result=True)
def poll_due() -> int:
    """Enqueue a sync for every due feed, and flag feeds whose syncs stopped happening."""
    settings = get_settings()
    now = datetime.now(UTC)
    due = run(sync.claim_due_feeds(settings, now=now))
    for feed_id in due:
        sync_feed.delay(str(feed_id))
    run(sync.check_stale(settings, now=now))
    return len(due)


@celery_app.task(
    name="pms.ical.sync_feed",
    ignore_result=True,
    # Fetch problems never raise (they are Holds with alerts); a database hiccup is retried.
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=3,
)
def sync_feed(feed_id: str) -> str | None:
    report = run(sync.sync_feed(uuid.UUID(feed_id), get_settings()))
    if report is None:
        return None
    _log.info("ical.sync_task", feed_id=feed_id, outcome=report.outcome, held=report.held)
    return report.held or "applied"
