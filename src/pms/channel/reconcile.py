"""Reconciliation: read back what the platform shows for the window, compare it with Core,
push the differences (by resetting the acknowledged state of the differing nights to what the
platform really has) and catch up on reservations whose webhooks never came."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pms import db
from pms.channel import connections, synclog
from pms.channel.adapters import adapter_for
from pms.channel.adapters.base import Adapter, CredentialsRefused, NightValues
from pms.channel.engine import dirty, flush
from pms.channel.engine.breaker import CircuitOpen
from pms.channel.engine.calls import Account, Exhausted, call
from pms.channel.inbound import apply_snapshot
from pms.core import ari_store, outbox
from pms.core.permissions import Permission
from pms.core.tenancy import Actor
from pms.logs import get_logger
from pms.models.channel import (
    ChannelConnection,
    ChannelMapping,
    ChannelReservation,
    ChannelSyncLog,
)
from pms.models.property import Property
from pms.settings import Settings

log = get_logger(__name__)
REQUESTED = "channel.reconcile_requested"
# An on-demand reconciliation's sync log entry: queued → running → ok | partial | stopped |
# revoked | missing | failed.
QUEUED, RUNNING = "queued", "running"


@dataclass
class ListingReport:
    mapping_id: uuid.UUID
    mismatches: int = 0
    reservations_applied: int = 0
    mismatched_nights: list[str] = field(default_factory=list)


@dataclass
class ReconcileReport:
    connection_id: uuid.UUID
    outcome: str = "ok"
    listings: list[ListingReport] = field(default_factory=list)

    @property
    def mismatches(self) -> int:
        return sum(x.mismatches for x in self.listings)


def differs(want: NightValues, have: NightValues, code: str | None, pending: set[str]) -> bool:
    """Compare what is synced; a night the platform holds for a request we know as pending in
    Core is not a difference (the platform holds it while the host decides)."""
    if want.available is not None:
        shown = have.available
        if code is not None and code in pending:
            shown = want.available
        if shown != want.available:
            return True
    pairs = (
        (want.price_minor, have.price_minor),
        (want.min_stay, have.min_stay),
        (want.max_stay, have.max_stay),
        (want.closed_to_arrival, have.closed_to_arrival),
        (want.closed_to_departure, have.closed_to_departure),
    )
    # Unavailable nights: prices and restrictions do not matter to a guest, but are still kept.
    return any(w is not None and w != h for w, h in pairs)


async def request(session: AsyncSession, actor: Actor, connection_id: uuid.UUID) -> ChannelSyncLog:
    """Ask for a reconciliation now: a sync log entry (``queued``) the caller can follow, and
    the outbox event that has a worker run it; both in the caller's transaction."""
    actor.require(Permission.CHANNELS_MANAGE)
    connection = await connections.get(session, actor, connection_id)
    now = datetime.now(UTC)
    entry = synclog.Entry("reconcile", connection.id, connection.agency_id, outcome=QUEUED)
    entry.started_at = now
    row = entry.row()
    row.finished_at = now  # until it has run
    session.add(row)
    await session.flush()
    outbox.emit(
        session,
        agency_id=connection.agency_id,
        event_type=REQUESTED,
        aggregate_type="channel_connection",
        aggregate_id=connection.id,
        payload={
            "connection_id": str(connection.id),
            "platform": connection.platform,
            "sync_log_id": row.id,
        },
    )
    return row


async def reconcile(
    connection_id: uuid.UUID, settings: Settings, sync_log_id: int | None = None
) -> ReconcileReport:
    """Reconcile every mapped listing of the connection; with ``sync_log_id`` (an on-demand
    request) that entry shows ``running`` and then the outcome and mismatches."""
    started = datetime.now(UTC)
    if sync_log_id is not None:
        await _summary(sync_log_id, outcome=RUNNING, started_at=started, finished_at=started)
    try:
        report = await _reconcile(connection_id, settings)
    except Exception as exc:
        if sync_log_id is not None:
            await _summary(
                sync_log_id,
                outcome="failed",
                error=f"{type(exc).__name__}: {exc}"[:1000],
                finished_at=datetime.now(UTC),
            )
        raise
    if sync_log_id is not None:
        finished = datetime.now(UTC)
        await _summary(
            sync_log_id,
            outcome=report.outcome,
            finished_at=finished,
            latency_ms=int((finished - started).total_seconds() * 1000),
            details={
                "mismatches": report.mismatches,
                "listings": [
                    {
                        "mapping_id": str(x.mapping_id),
                        "mismatches": x.mismatches,
                        "reservations_applied": x.reservations_applied,
                    }
                    for x in report.listings
                ],
            },
        )
    return report


async def _summary(sync_log_id: int, **values: Any) -> None:
    async with db.transaction(None) as s:
        await db.system_access(s)
        await s.execute(
            update(ChannelSyncLog).where(ChannelSyncLog.id == sync_log_id).values(**values)
        )


async def _reconcile(connection_id: uuid.UUID, settings: Settings) -> ReconcileReport:
    report = ReconcileReport(connection_id)
    async with db.get_sessionmaker()() as s, s.begin():
        await db.system_access(s)
        connection = await s.get(ChannelConnection, connection_id)
        if connection is None:
            report.outcome = "missing"
            return report
        await db.set_tenant(s, connection.agency_id)
        rows = (
            await s.execute(
                select(ChannelMapping, Property)
                .join(Property, Property.id == ChannelMapping.property_id)
                .where(ChannelMapping.connection_id == connection_id, ChannelMapping.active)
            )
        ).all()
        s.expunge_all()
    if connection.status in ("paused", "revoked"):
        report.outcome = "stopped"
        return report
    adapter = adapter_for(connection.platform, settings)
    try:
        account = await Account.open(connection, settings)
    except CredentialsRefused:
        report.outcome = "revoked"
        return report
    for mapping, prop in rows:
        entry = synclog.Entry("reconcile", connection.id, connection.agency_id, mapping.id)
        listing = ListingReport(mapping.id)
        try:
            await _listing(account, adapter, settings, mapping, prop, entry, listing)
            entry.outcome = "ok"
        except (Exhausted, CircuitOpen, CredentialsRefused) as exc:
            entry.outcome, entry.error = "failed", str(exc)
            report.outcome = "partial"
        finally:
            entry.attempts = account.attempts
            entry.details = {
                "mismatches": listing.mismatches,
                "reservations_applied": listing.reservations_applied,
                "mismatched_nights": listing.mismatched_nights[:50],
            }
            async with db.transaction(connection.agency_id) as s:
                s.add(entry.row())
        report.listings.append(listing)
        await flush.flush(mapping.id, settings)
    return report


async def _listing(
    account: Account,
    adapter: Adapter,
    settings: Settings,
    mapping: ChannelMapping,
    prop: Property,
    entry: synclog.Entry,
    listing: ListingReport,
) -> None:
    today = ari_store.local_today(prop.timezone)
    start = today
    end = today + timedelta(days=min(settings.channel_sync_days, adapter.window_days))
    entry.start, entry.end = start, end
    # Inbound first: reservations whose webhooks were lost; then compare the calendar.
    remote_reservations = await call(
        account, partial(adapter.pull_bookings, listing_id=mapping.remote_listing_id)
    )
    entry.calls += 1
    for res in remote_reservations:
        async with db.transaction(mapping.agency_id) as s:
            await db.system_access(s)
            outcome = await apply_snapshot(s, mapping, res, None)
        if outcome == "applied":
            listing.reservations_applied += 1
    remote = await call(
        account,
        partial(
            adapter.read_back,
            listing_id=mapping.remote_listing_id,
            currency=prop.currency,
            start=start,
            end=end,
        ),
    )
    entry.calls += (end - start).days // 366 + 1
    async with db.transaction(mapping.agency_id) as s:
        want = await flush.wanted(s, mapping, start, end)
        pending = set(
            (
                await s.execute(
                    select(ChannelReservation.code).where(
                        ChannelReservation.mapping_id == mapping.id,
                        ChannelReservation.remote_status == "requested",
                    )
                )
            ).scalars()
        )
        wrong: dict[date, NightValues] = {}
        for night, values in want.items():
            shown = remote.get(night)
            if shown is None or differs(values, shown[0], shown[1], pending):
                wrong[night] = shown[0] if shown else NightValues()
        listing.mismatches = len(wrong)
        listing.mismatched_nights = [n.isoformat() for n in sorted(wrong)]
        entry.nights = len(want)
        if wrong:
            # What the platform really has becomes the diff's base: the flush sends the rest.
            await flush.acknowledge(s, mapping, wrong)
            await dirty.mark(
                s, mapping.agency_id, [mapping.id], min(wrong), max(wrong) + timedelta(days=1)
            )
