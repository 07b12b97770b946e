"""Channel Manager tasks: thin wrappers around ``pms.channel`` services, one queue per platform
(``channel.<platform>``), plus the outbox consumers that turn Core's events into dirty ranges."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from redis.exceptions import RedisError

from pms import db
from pms.channel import conflicts, inbound, pull, reconcile
from pms.channel.engine import dirty, flush
from pms.channel.engine.scope import one_per_account, scope_of
from pms.channel.inbox import RECEIVED
from pms.core.outbox import EventMessage
from pms.logs import get_logger
from pms.models.channel import ChannelConnection, ChannelInbox, InboxStatus
from pms.settings import get_settings
from pms.tasks.app import celery_app
from pms.tasks.consumers import register, sync_redis
from pms.tasks.runtime import run

_log = get_logger("pms.tasks.channel")
# A flush's queue: one per platform, so a slow platform never holds up another.


def queue_for(platform: str) -> str:
    return f"channel.{platform}"


def inbound_queue_for(platform: str) -> str:
    """Inbound messages have their own queue: a booking never waits behind slow pushes."""
    return f"channel.{platform}.inbound"


def flush_now(connection_id: uuid.UUID | str, platform: str, countdown: float = 0) -> None:
    """Schedule a flush of the account unconditionally (a retry after an open circuit, a flush
    that handed over with work left, the sweep)."""
    flush_account.apply_async((str(connection_id),), queue=queue_for(platform), countdown=countdown)


def schedule_flush(connection_id: uuid.UUID, platform: str, agency_id: uuid.UUID) -> bool:
    """At most one flush per account within the debounce window: a Redis key lives as long as
    the window and the flush runs when it has passed, so every change made while the key lives
    is read by that flush (or by the one it hands over to). The account is the connection's
    ``scope`` (every hotel of an agency on Booking.com or Expedia is one). False: one is
    already due."""
    window = get_settings().channel_debounce_seconds
    account = scope_of(platform, agency_id, connection_id)
    try:
        fresh = bool(
            sync_redis().set(
                f"pms:channel:flush-pending:{account.key}",
                "1",
                nx=True,
                px=max(1, int(window * 1000)),
            )
        )
    except RedisError:  # Redis away: schedule anyway, flushes are idempotent
        fresh = True
    if fresh:
        flush_now(connection_id, platform, countdown=window)
    return fresh


def retry_later(connection_id: str, platform: str, account: str, countdown: float) -> None:
    """A flush after an open circuit's cool-down, one per account at a time: the flushes that
    meet the open circuit meanwhile (every debounce window of a busy account) add none."""
    try:
        fresh = bool(
            sync_redis().set(
                f"pms:channel:flush-retry:{account}",
                "1",
                nx=True,
                px=max(1, int(countdown * 1000)),
            )
        )
    except RedisError:
        fresh = True
    if fresh:
        flush_now(connection_id, platform, countdown=countdown)


async def _mark(property_id: str, start: str, end: str, rate_plan_id: str | None) -> None:
    # A system transaction (no agency to scope it to first: one round trip less per event).
    async with db.get_sessionmaker()() as session, session.begin():
        await db.system_access(session)
        accounts = await dirty.mark_for_property(
            session,
            uuid.UUID(property_id),
            date.fromisoformat(start),
            date.fromisoformat(end),
            uuid.UUID(rate_plan_id) if rate_plan_id else None,
        )
    for connection_id, platform, agency_id in one_per_account(accounts):
        schedule_flush(connection_id, platform, agency_id)


@register("ari.changed")
async def on_ari_changed(event: EventMessage) -> None:
    p = event["payload"]
    await _mark(p["property_id"], p["start"], p["end"], p.get("rate_plan_id"))


@register("availability.changed")
async def on_availability_changed(event: EventMessage) -> None:
    p = event["payload"]
    if event["agency_id"] is not None:
        # First: nights a conflict still needs stay closed (their flush then sees them so).
        async with db.transaction(uuid.UUID(event["agency_id"])) as session:
            await conflicts.hold_freed(
                session,
                uuid.UUID(p["property_id"]),
                date.fromisoformat(p["start"]),
                date.fromisoformat(p["end"]),
            )
    await _mark(p["property_id"], p["start"], p["end"], None)


@register(dirty.SYNC_REQUESTED)
async def on_sync_requested(event: EventMessage) -> None:
    async with db.transaction(None) as session:
        await db.system_access(session)
        from pms.models.channel import ChannelMapping

        mapping = await session.get(ChannelMapping, uuid.UUID(event["payload"]["mapping_id"]))
    if mapping is not None:
        schedule_flush(mapping.connection_id, mapping.platform, mapping.agency_id)


@register(RECEIVED)
async def on_message_received(event: EventMessage) -> None:
    p = event["payload"]
    apply_message.apply_async((int(p["inbox_id"]),), queue=inbound_queue_for(p["platform"]))


@celery_app.task(name="pms.channel.flush_account", ignore_result=True, acks_late=True)
def flush_account(connection_id: str) -> str:
    report = run(flush.flush_account(uuid.UUID(connection_id), get_settings()))
    platform = report.platform
    # "busy": the flush holding the account reads this change, or hands it on (see flush).
    if report.more and platform:
        flush_now(connection_id, platform)
    elif report.outcome == "circuit_open" and report.retry_in is not None and platform:
        retry_later(connection_id, platform, report.account or connection_id, report.retry_in)
    _log.info(
        "channel.flush",
        connection_id=connection_id,
        outcome=report.outcome,
        connections=report.connections,
        listings=report.listings,
        calls=report.calls,
    )
    return report.outcome


@celery_app.task(name="pms.channel.flush", ignore_result=True, acks_late=True)
def flush_mapping(mapping_id: str) -> str:
    """One listing (tasks queued before flushes went per account)."""
    report = run(flush.flush(uuid.UUID(mapping_id), get_settings()))
    _log.info("channel.flush", mapping_id=mapping_id, outcome=report.outcome, calls=report.calls)
    return report.outcome


# Seconds before a message whose apply a concurrent transaction rolled back is applied again.
APPLY_RETRY_SECONDS = 0.5


@celery_app.task(
    name="pms.channel.apply_message",
    ignore_result=True,
    acks_late=True,
    bind=True,
    max_retries=None,
)
def apply_message(self: Any, inbox_id: int) -> str:
    try:
        return run(inbound.apply_message(inbox_id, get_settings()))
    except Exception as exc:
        run(inbound.record_failure(inbox_id, f"{type(exc).__name__}: {exc}"))
        _log.warning("channel.apply_failed", inbox_id=inbox_id, error=type(exc).__name__)
        if db.rolled_back_by_another(exc):
            # A concurrent transaction on the same stay won: apply again in a moment, rather
            # than at the sweep's next look for failed messages.
            raise self.retry(countdown=APPLY_RETRY_SECONDS) from exc
        raise


async def _sweep() -> tuple[int, int]:
    """Safety nets: dirty ranges whose flush seems lost, inbox messages not yet applied."""
    now = datetime.now(UTC)
    async with db.transaction(None) as session:
        await db.system_access(session)
        late = await dirty.overdue(session, now - timedelta(seconds=10))
        from sqlalchemy import select

        open_messages = (
            await session.execute(
                select(ChannelInbox.id, ChannelInbox.platform).where(
                    ChannelInbox.status.in_(
                        [InboxStatus.PENDING, InboxStatus.FAILED, InboxStatus.UNMAPPED]
                    ),
                    ChannelInbox.received_at < now - timedelta(seconds=15),
                )
            )
        ).all()
        failing = (
            (
                await session.execute(
                    select(ChannelConnection).where(ChannelConnection.failing_since.is_not(None))
                )
            )
            .scalars()
            .all()
        )
        for connection in failing:
            await flush.raise_if_failing_long(session, get_settings(), connection, now)
    for connection_id, platform, _ in one_per_account(late):
        flush_now(connection_id, platform)
    for inbox_id, platform in open_messages:
        apply_message.apply_async((inbox_id,), queue=inbound_queue_for(platform))
    return len(late), len(open_messages)


@celery_app.task(name="pms.channel.sweep", ignore_result=True)
def sweep() -> list[int]:
    return list(run(_sweep()))


async def _connections() -> list[tuple[uuid.UUID, str]]:
    async with db.transaction(None) as session:
        await db.system_access(session)
        from sqlalchemy import select

        rows = await session.execute(
            select(ChannelConnection.id, ChannelConnection.platform).where(
                ChannelConnection.status != "revoked"
            )
        )
        return [(r.id, r.platform) for r in rows]


@celery_app.task(name="pms.channel.reconcile_all", ignore_result=True)
def reconcile_all() -> int:
    accounts = run(_connections())
    for connection_id, platform in accounts:
        reconcile_connection.apply_async(
            (str(connection_id), None, platform), queue=queue_for(platform)
        )
    return len(accounts)


@register(reconcile.REQUESTED)
async def on_reconcile_requested(event: EventMessage) -> None:
    p = event["payload"]
    reconcile_connection.apply_async(
        (p["connection_id"], int(p["sync_log_id"]), p["platform"]), queue=queue_for(p["platform"])
    )


@celery_app.task(name="pms.channel.reconcile", ignore_result=True)
def reconcile_connection(
    connection_id: str, sync_log_id: int | None = None, platform: str | None = None
) -> int:
    report = run(reconcile.reconcile(uuid.UUID(connection_id), get_settings(), sync_log_id))
    if platform:
        # Its flushes held the account: a flush task that found it busy meanwhile left its
        # changes to them, but they pushed only the reconciled listings. This takes the rest.
        flush_now(connection_id, platform)
    _log.info("channel.reconciled", connection_id=connection_id, mismatches=report.mismatches)
    return report.mismatches


# --- pulling platforms (Booking.com, Expedia): reservations fetched, applied, acknowledged ---


async def _due_pulls() -> list[tuple[str, str]]:
    settings = get_settings()
    due = []
    for connection_id, platform in await _connections():
        adapter = pull.puller(platform, settings)
        if adapter is not None and await pull.claim_due(connection_id, adapter.poll_seconds):
            due.append((str(connection_id), platform))
    return due


@celery_app.task(name="pms.channel.poll_due", ignore_result=True)
def poll_due() -> int:
    """The beat's tick: a pull for each connection of a pulling platform that is due."""
    due = run(_due_pulls())
    for connection_id, platform in due:
        poll_connection.apply_async((connection_id,), queue=inbound_queue_for(platform), expires=60)
    return len(due)


@celery_app.task(name="pms.channel.poll", ignore_result=True)
def poll_connection(connection_id: str) -> str:
    report = run(pull.poll(uuid.UUID(connection_id), get_settings()))
    _log.info(
        "channel.pulled",
        connection_id=connection_id,
        outcome=report.outcome,
        received=report.received,
        acknowledged=report.acknowledged,
    )
    return report.outcome
