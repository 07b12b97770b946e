"""Scheduled ARI work: roll every rate plan's 24-month horizon forward once a day."""

from __future__ import annotations

from pms.core import ari_store
from pms.logs import get_logger
from pms.tasks.app import celery_app
from pms.tasks.runtime import run

_log = get_logger("pms.tasks.ari")


@celery_app.task(
    name="pms.ari.roll_horizon", acks_late=True, max_retries=3, default_retry_delay=300
)
def roll_horizon() -> int:
    """Idempotent: a plan already at today's horizon is skipped, so a second run (or a second
    worker) does nothing."""
    rolled = run(ari_store.roll_all_forward())
    _log.info("ari_horizon_rolled", plans=rolled)
    return rolled
