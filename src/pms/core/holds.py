"""Holds past their expiry: whoever writes to the property next expires them in its own
transaction, and the scheduler sweeps the rest; either way with the status change's events and
audit row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, Update, and_, func, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pms import db
from pms.core import audit, booking_events
from pms.core.booking_status import BookingStatus
from pms.models.booking import Booking

# The table's columns, not the mapped attributes: the create reads the update's result in a
# statement of plain columns, which must not need the ORM's per-execution set-up.
_TABLE: Table = Booking.__table__  # type: ignore[assignment]
_BOOKINGS = _TABLE.c


# The status as a literal, not a bind parameter: as a parameter, PostgreSQL's generic plan
# of the create's first statement could not tell how rare holds are and looked dearer than a
# plan for the values at hand, so that statement was planned afresh on every create (0.9 ms
# of the database's CPU each time, measured with pg_stat_statements' track_planning).
_HOLD = literal_column(f"'{BookingStatus.HOLD.value}'", type_=_BOOKINGS.status.type)


def _stale_hold() -> ColumnElement[bool]:
    return and_(_BOOKINGS.status == _HOLD, _BOOKINGS.hold_expires_at <= func.now())


def stale_holds_update(property_id: Any | None = None) -> Update:
    """The one statement that expires holds past their expiry (of one property — a value or a
    bind parameter — or all the transaction's agency may see); ``record_expired`` must follow
    for the ids it returns."""
    stmt = (
        update(_TABLE)
        .where(_stale_hold())
        .values(status=BookingStatus.EXPIRED, version=_BOOKINGS.version + 1)
        .returning(_BOOKINGS.id)
    )
    if property_id is not None:
        stmt = stmt.where(_BOOKINGS.property_id == property_id)
    return stmt


async def expire_stale_holds(session: AsyncSession, property_id: uuid.UUID | None = None) -> int:
    """Holds past their expiry stop blocking: whoever writes next expires them in the same
    transaction, and the scheduler job (``expire_stale_holds_everywhere``) sweeps the rest.
    Either way each expired hold records its status change (events and audit) here."""
    expired = list((await session.scalars(stale_holds_update(property_id))).all())
    await record_expired(session, expired)
    return len(expired)


async def record_expired(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    """The status change of the holds ``stale_holds_update`` has just expired (their ids):
    events and audit. The bookings are read again (an object of one already in the session
    is brought up to date)."""
    if not ids:
        return
    expired = await session.scalars(
        select(Booking)
        .where(Booking.id.in_(ids))
        .order_by(Booking.id)
        .execution_options(populate_existing=True)
    )
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
