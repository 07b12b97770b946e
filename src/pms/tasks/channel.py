"""Channel Manager tasks: thin wrappers around ``pms.channel`` services, one queue per platform
(``channel.<platform>``), plus the outbox consumers that turn Core's events into dirty ranges."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from pms import db
from pms.channel import inbound, reconcile
from pms.channel.engine import dirty, flush
from pms.channel.inbox import RECEIVED
from pms.core.outbox import EventMessage
from pms.logs import get_logger
from pms.models.channel import ChannelConnection, ChannelInbox, InboxStatus
from pms.redis_client import get_redis
from pms.settings import get_settings
from pms.tasks.app import celery_app
from pms.tasks.consumers import register
from pms.tasks.runtime import run

_log = get_logger("pms.tasks.channel")
# A flush's queue: one per platform, so a slow platform never holds up another.


def queue_for(platform: str) -> str:
    return f"channel.{platform}"


def inbound_queue_for(platform: str) -> str:
    """Inbound messages have their own queue: a booking never waits behind slow pushes."""
    return f"channel.{platform}.inbound"


def schedule_flush(
    mapping_id: uuid.UUID | str, platform: str, countdown: float | None = None
) -> None:
    flush_mapping.apply_async(
        (str(mapping_id),),
        queue=queue_for(platform),
        countdown=get_settings().channel_debounce_seconds if countdown is None else countdown,
    )


async def _debounced(targets: list[tuple[uuid.UUID, str]]) -> list[tuple[uuid.UUID, str]]:
    """One pending flush per mapping within the debounce window (Redis NX key)."""
    window = max(1, int(get_settings().channel_debounce_seconds * 1000))
    out = []
    for mapping_id, platform in targets:
        try:
            fresh = await get_redis().set(
                f"pms:channel:flush-pending:{mapping_id}", "1", nx=True, px=window
            )
        except Exception:  # noqa: BLE001 (Redis away: schedule anyway, flushes are idempotent)
            fresh = True
        if fresh:
            out.append((mapping_id, platform))
    return out


async def _mark(property_id: str, start: str, end: str, rate_plan_id: str | None) -> None:
    async with db.transaction(None) as session:
        await db.system_access(session)
        targets = await dirty.mark_for_property(
            session,
            uuid.UUID(property_id),
            date.fromisoformat(start),
            date.fromisoformat(end),
            uuid.UUID(rate_plan_id) if rate_plan_id else None,
        )
    for mapping_id, platform in await _debounced(targets):
        schedule_flush(mapping_id, platform)


@register("ari.changed")
async def on_ari_changed(event: EventMessage) -> None:
    p = event["payload"]
    await _mark(p["property_id"], p["start"], p["end"], p.get("rate_plan_id"))


@register("availability.changed")
async def on_availability_changed(event: EventMessage) -> None:
    p = event["payload"]
    await _mark(p["property_id"], p["start"], p["end"], None)


@register(dirty.SYNC_REQUESTED)
async def on_sync_requested(event: EventMessage) -> None:
    async with db.transaction(None) as session:
        await db.system_access(session)
        from pms.models.channel import ChannelMapping

        mapping = await session.get(ChannelMapping, uuid.UUID(event["payload"]["mapping_id"]))
    if mapping is not None:
        schedule_flush(mapping.id, mapping.platform, countdown=0)


@register(RECEIVED)
async def on_message_received(event: EventMessage) -> None:
    p = event["payload"]
    apply_message.apply_async((int(p["inbox_id"]),), queue=inbound_queue_for(p["platform"]))


@celery_app.task(name="pms.channel.flush", ignore_result=True, acks_late=True)
def flush_mapping(mapping_id: str) -> str:
    report = run(flush.flush(uuid.UUID(mapping_id), get_settings()))
    if report.outcome == "circuit_open" and report.retry_in is not None and report.platform:
        schedule_flush(mapping_id, report.platform, countdown=report.retry_in)
    _log.info("channel.flush", mapping_id=mapping_id, outcome=report.outcome, calls=report.calls)
    return report.outcome


@celery_app.task(
    name="pms.channel.apply_message",
    ignore_result=True,
    acks_late=True,
    bind=True,
    max_retries=None,
)
def apply_message(self: object, inbox_id: int) -> str:
    try:
        return run(inbound.apply_message(inbox_id, get_settings()))
    except Exception as exc:
        run(inbound.record_failure(inbox_id, f"{type(exc).__name__}: {exc}"))
        _log.warning("channel.apply_failed", inbox_id=inbox_id, error=type(exc).__name__)
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
    for mapping_id, platform in late:
        schedule_flush(mapping_id, platform, countdown=0)
    for inbox_id, platform in open_messages:
        apply_message.apply_async((inbox_id,), queue=inbound_queue_for(platform))
    return len(late), len(open_messages)


@celery_app.task(name="pms.channel.sweep", ignore_result=True)
def sweep() -> list[int]:
    return list(run(_sweep()))


async def _connections() -> list[uuid.UUID]:
    async with db.transaction(None) as session:
        await db.system_access(session)
        from sqlalchemy import select

        return list(
            (
                await session.execute(
                    select(ChannelConnection.id).where(ChannelConnection.status != "revoked")
                )
            ).scalars()
        )


@celery_app.task(name="pms.channel.reconcile_all", ignore_result=True)
def reconcile_all() -> int:
    ids = run(_connections())
    for connection_id in ids:
        reconcile_connection.delay(str(connection_id))
    return len(ids)


@celery_app.task(name="pms.channel.reconcile", ignore_result=True)
def reconcile_connection(connection_id: str) -> int:
    report = run(reconcile.reconcile(uuid.UUID(connection_id), get_settings()))
    _log.info("channel.reconciled", connection_id=connection_id, mismatches=report.mismatches)
    return report.mismatches
