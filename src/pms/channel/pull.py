"""Pulling reservations from platforms that hand them out on request (Booking.com's
``OTA_HotelResNotif``, Expedia's BR): fetch what waits, store each message raw in the inbox
(once per platform and message id, like a webhook), apply it, and only then acknowledge it.

A message that cannot be applied yet (unmapped listing, a failure) is not acknowledged: the
platform hands it out again, and the inbox row is retried by the sweep meanwhile. A message the
inbox already holds (the acknowledgement was lost) is acknowledged again once applied; a
platform that takes a second acknowledgement as a no-op then forgets it.

Cadence: the beat's tick starts a pull per connection when it is due: ``poll_seconds`` after the
last pull, and never sooner than ``ack_pause_seconds`` after an acknowledgement (Redis keys
per connection; one pull per connection at a time)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pms import db
from pms.channel import alerting, inbound, synclog
from pms.channel.adapters import adapter_for
from pms.channel.adapters.base import (
    AckRefusal,
    CredentialsRefused,
    PlatformError,
    PulledMessage,
    Puller,
    counting_requests,
)
from pms.channel.engine.breaker import CircuitOpen
from pms.channel.engine.calls import Account, Exhausted, call
from pms.channel.fidelity import PLATFORM_NAMES
from pms.logs import get_logger
from pms.models.channel import ChannelConnection, ChannelInbox, ConnectionStatus, InboxStatus
from pms.redis_client import get_redis
from pms.settings import Settings

log = get_logger(__name__)
DONE = (InboxStatus.APPLIED, InboxStatus.SUPERSEDED)


@dataclass
class PollReport:
    outcome: str = "idle"  # idle | pulled | stopped | failed | busy
    received: int = 0
    applied: int = 0
    acknowledged: int = 0


def puller(platform: str, settings: Settings) -> Puller | None:
    adapter = adapter_for(platform, settings)
    return adapter if isinstance(adapter, Puller) else None


def _due_key(connection_id: uuid.UUID | str) -> str:
    return f"pms:channel:poll-due:{connection_id}"


def _lock_key(connection_id: uuid.UUID | str) -> str:
    return f"pms:channel:poll-lock:{connection_id}"


async def claim_due(connection_id: uuid.UUID | str, seconds: float) -> bool:
    """True when the connection's pull is due (and marks the next one ``seconds`` away)."""
    return bool(
        await get_redis().set(_due_key(connection_id), "1", nx=True, px=max(1, int(seconds * 1000)))
    )


async def _store(platform: str, pulled: PulledMessage) -> int:
    """The inbox row of a pulled message: a new one, or the one a former pull stored."""
    async with db.transaction(None) as s:
        await db.system_access(s)
        inserted = (
            await s.execute(
                insert(ChannelInbox)
                .values(
                    platform=platform,
                    message_id=pulled.message_id,
                    event_type=pulled.event_type,
                    body=pulled.body.decode("utf-8"),
                    status=InboxStatus.PENDING,
                )
                .on_conflict_do_nothing(index_elements=["platform", "message_id"])
                .returning(ChannelInbox.id)
            )
        ).scalar_one_or_none()
        if inserted is not None:
            return int(inserted)
        found = await s.execute(
            select(ChannelInbox.id).where(
                ChannelInbox.platform == platform, ChannelInbox.message_id == pulled.message_id
            )
        )
        return int(found.scalar_one())


async def _status(inbox_id: int) -> str:
    async with db.transaction(None) as s:
        await db.system_access(s)
        row = await s.get(ChannelInbox, inbox_id)
        return row.status if row is not None else "missing"


async def poll(connection_id: uuid.UUID, settings: Settings) -> PollReport:
    """One pull of the connection: fetch, store, apply, acknowledge what was applied."""
    redis = get_redis()
    if not await redis.set(_lock_key(connection_id), "1", nx=True, px=120_000):
        return PollReport("busy")
    try:
        return await _poll(connection_id, settings)
    finally:
        await redis.delete(_lock_key(connection_id))


async def _poll(connection_id: uuid.UUID, settings: Settings) -> PollReport:
    report = PollReport()
    async with db.transaction(None) as s:
        await db.system_access(s)
        connection = await s.get(ChannelConnection, connection_id)
        if connection is not None:
            s.expunge(connection)
    if connection is None:
        return report
    adapter = puller(connection.platform, settings)
    if adapter is None or connection.status in (ConnectionStatus.PAUSED, ConnectionStatus.REVOKED):
        report.outcome = "stopped"
        return report
    entry = synclog.Entry("pull", connection.id, connection.agency_id)
    account: Account | None = None
    refused: list[AckRefusal] = []
    with counting_requests() as sent:
        try:
            account = await Account.open(connection, settings)
            refused = await _pull(connection.platform, adapter, account, settings, report)
            report.outcome = "pulled" if report.received else "idle"
            entry.outcome = "ok"
        except (Exhausted, CircuitOpen, CredentialsRefused, PlatformError) as exc:
            report.outcome = "stopped" if isinstance(exc, CredentialsRefused) else "failed"
            entry.outcome, entry.error = "failed", str(exc)
        finally:
            # Every HTTP request the pull made (Booking.com: a GET per queue, then the acks;
            # retries and token exchanges included), as the platform counts them.
            entry.calls = sent[0]
            entry.attempts = account.attempts if account is not None else 0
            entry.details = {
                "received": report.received,
                "applied": report.applied,
                "acknowledged": report.acknowledged,
            }
            if refused:
                entry.details["refused_acknowledgements"] = [r.__dict__ for r in refused]
    if report.received or entry.outcome != "ok":
        async with db.transaction(connection.agency_id) as s:
            s.add(entry.row())
            for r in refused:
                if not r.next_pull:
                    await _alert_refused(s, connection, r)
    if entry.outcome == "ok":
        async with db.transaction(connection.agency_id) as s:
            await s.execute(
                update(ChannelConnection)
                .where(ChannelConnection.id == connection.id)
                .values(last_pull_at=datetime.now(UTC))
            )
    return report


async def _pull(
    platform: str, adapter: Puller, account: Account, settings: Settings, report: PollReport
) -> list[AckRefusal]:
    """Fetch, store and apply; acknowledge what was applied. Returns the acknowledgements the
    platform refused with a warning."""
    messages = await call(account, adapter.fetch)
    report.received = len(messages)
    done: list[PulledMessage] = []
    for message in messages:
        inbox_id = await _store(platform, message)
        try:
            await inbound.apply_message(inbox_id, settings)
        except Exception as exc:  # noqa: BLE001 - kept with its reason, the sweep retries
            await inbound.record_failure(inbox_id, f"{type(exc).__name__}: {exc}")
            log.warning("channel.pull_apply_failed", inbox_id=inbox_id, error=type(exc).__name__)
            continue
        if await _status(inbox_id) in DONE:
            done.append(message)
    report.applied = len(done)
    if not done:
        return []
    refused = await call(account, partial(adapter.acknowledge, messages=done))
    not_taken = {r.reservation for r in refused}
    report.acknowledged = sum(1 for m in done if m.ack_key[1] not in not_taken)
    # No pull sooner than the platform allows after an acknowledgement.
    await get_redis().set(
        _due_key(account.connection_id), "1", px=max(1, int(adapter.ack_pause_seconds * 1000))
    )
    for r in refused:
        log.warning(
            "channel.acknowledgement_left" if r.next_pull else "channel.acknowledgement_refused",
            connection_id=str(account.connection_id),
            reservation=r.reservation,
            code=r.code,
        )
    return refused


async def _alert_refused(s: AsyncSession, connection: ChannelConnection, r: AckRefusal) -> None:
    """One open alert per connection and reservation: the platform did not take our
    acknowledgement (the next pull acknowledges it again; past the platform's deadline it sends
    the reservation to the property another way)."""
    name = PLATFORM_NAMES.get(connection.platform, connection.platform)
    await alerting.raise_once(
        s,
        agency_id=connection.agency_id,
        kind=alerting.ACK_REFUSED,
        subject=f"{connection.id}:{r.reservation}",
        message=f"{name} did not take our confirmation of reservation {r.reservation} "
        f"(warning {r.code}: {r.text}). It stays unconfirmed on {name} until a later pull "
        f"confirms it; check it in the platform's extranet.",
    )
