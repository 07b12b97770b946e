"""Holds past their expiry: whoever writes to the property next expires them in its own
transaction, and the scheduler sweeps the rest; either way with the status change's events and
audit row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Update, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pms import db
from pms.core import audit, booking_events
from pms.core.booking_status import BookingStatus
from pms.models.booking import Booking


def _stale_hold() -> ColumnElement[bool]:
    return and_(Booking.status == BookingStatus.HOLD, Booking.hold_expires_at <= func.now())


def stale_holds_update(property_id: Any | None = None) -> Update:
    """The one statement that expires holds past their expiry (of one property — a value or a
    bind parameter — or all the transaction's agency may see); ``record_expired`` must follow
    for the rows it returns."""
    stmt = (
        update(Booking)
        .where(_stale_hold())
        .values(status=BookingStatus.EXPIRED, version=Booking.version + 1)
    )
    if property_id is not None:
        stmt = stmt.where(Booking.property_id == property_id)
    return stmt


async def expire_stale_holds(session: AsyncSession, property_id: uuid.UUID | None = None) -> int:
    """Holds past their expiry stop blocking: whoever writes next expires them in the same
    transaction, and the scheduler job (``expire_stale_holds_everywhere``) sweeps the rest.
    Either way each expired hold records its status change (events and audit) here."""
    stmt = (
        stale_holds_update(property_id).returning(Booking).execution_options(populate_existing=True)
    )
    expired = list((await session.scalars(stmt)).all())
    await record_expired(session, expired)
    return len(expired)


async def record_expired(session: AsyncSession, expired: Sequence[Booking]) -> None:
    """The status change of holds ``stale_holds_update`` has just expired: events and audit."""
    for booking in expired:
        await booking_events.status_changed(session, booking, BookingStatus.HOLD)
        # No actor: the clock expired it, not whoever happened to write next.
        await audit.record(
            session,
            None,
            agency_id=booking.agency_id,
            entity_type="booking",
            entity_id=booking.id,
            action=f"status:{BookingStatus.EXPIRED.value}",
            before={"status": BookingStatus.HOLD.value, "version": booking.version - 1},
            after={"status": booking.status.value, "version": booking.version},
        )


async def expire_stale_holds_everywhere() -> int:
    """The scheduler's sweep. Which agencies have stale holds is a system-wide question; the
    expiry itself runs in one transaction per agency, scoped by row-level security like any
    other write (the audit log admits only the transaction's own agency)."""
    async with db.transaction() as session:
        await db.system_access(session)
        agencies = (
            await session.scalars(select(Booking.agency_id).where(_stale_hold()).distinct())
        ).all()
    total = 0
    for agency_id in agencies:
        async with db.transaction(agency_id) as session:
            total += await expire_stale_holds(session)
    return total
