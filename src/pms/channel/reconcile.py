"""Reconciliation: read back what the platform shows for the window, compare it with Core,
push the differences (by resetting the acknowledged state of the differing nights to what the
platform really has) and catch up on reservations whose webhooks never came."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial

from sqlalchemy import select

from pms import db
from pms.channel import synclog
from pms.channel.adapters import adapter_for
from pms.channel.adapters.base import Adapter, CredentialsRefused, NightValues
from pms.channel.engine import dirty, flush
from pms.channel.engine.breaker import CircuitOpen
from pms.channel.engine.calls import Account, Exhausted, call
from pms.channel.inbound import apply_snapshot
from pms.core import ari_store
from pms.logs import get_logger
from pms.models.channel import ChannelConnection, ChannelMapping, ChannelReservation
from pms.models.property import Property
from pms.settings import Settings

log = get_logger(__name__)


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


async def reconcile(connection_id: uuid.UUID, settings: Settings) -> ReconcileReport:
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
