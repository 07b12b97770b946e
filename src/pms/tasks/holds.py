"""Scheduled hold expiry: holds past ``hold_expires_at`` in every agency become ``expired``."""

from __future__ import annotations

from pms.core import holds
from pms.tasks import runtime
from pms.tasks.app import celery_app


@celery_app.task(name="pms.bookings.expire_holds", ignore_result=True)
def expire_holds() -> int:
    return runtime.run(holds.expire_stale_holds_everywhere())
