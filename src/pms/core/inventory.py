"""The inventory guard: turning exclusion-constraint violations into 409s that name the clash,
expiring stale holds, and reading occupied ranges."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, and_, any_, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pms import db
from pms.core import sqlarrays
from pms.core.booking_status import BLOCK_MARKER, INVENTORY_ACTIVE, BookingStatus
from pms.core.errors import Conflict
from pms.models.inventory import EXCLUSION_CONSTRAINT, OccupiedRange

EXCLUSION_VIOLATION = "23P01"


class InventoryConflict(Conflict):
    code = "inventory-conflict"
    title = "Dates not available"


@dataclass(frozen=True)
class Clash:
    conflict_type: str  # "booking", "hold" or "block"
    start: date
    end: date
    booking_id: uuid.UUID | None
    block_id: uuid.UUID | None


async def find_clash(
    session: AsyncSession,
    property_id: uuid.UUID,
    start: date,
    end: date,
    *,
    exclude_booking: uuid.UUID | None = None,
    exclude_block: uuid.UUID | None = None,
) -> Clash | None:
    stmt = (
        select(OccupiedRange)
        .where(
            OccupiedRange.property_id == property_id,
            OccupiedRange.status.in_(INVENTORY_ACTIVE),
            OccupiedRange.start < end,
            OccupiedRange.end > start,
        )
        .order_by(OccupiedRange.start)
        .limit(1)
    )
    if exclude_booking is not None:
        stmt = stmt.where(
            (OccupiedRange.booking_id.is_(None)) | (OccupiedRange.booking_id != exclude_booking)
        )
    if exclude_block is not None:
        stmt = stmt.where(
            (OccupiedRange.block_id.is_(None)) | (OccupiedRange.block_id != exclude_block)
        )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        return None
    kind = (
        "block"
        if row.status == BLOCK_MARKER
        else "hold"
        if row.status == BookingStatus.HOLD.value
        else "booking"
    )
    return Clash(kind, row.start, row.end, row.booking_id, row.block_id)


def conflict_error(clash: Clash | None, start: date, end: date) -> InventoryConflict:
    if clash is None:
        # The clashing transaction rolled back or moved on between our failure and our look.
        return InventoryConflict(
            f"The nights {start} to {end} were just taken; try again.",
            conflict_type="booking",
            clash=None,
        )
    return InventoryConflict(
        f"The nights {start} to {end} overlap a {clash.conflict_type} "
        f"from {clash.start} to {clash.end}.",
        conflict_type=clash.conflict_type,
        clash={
            "start": clash.start.isoformat(),
            "end": clash.end.isoformat(),
            "booking_id": str(clash.booking_id) if clash.booking_id else None,
            "block_id": str(clash.block_id) if clash.block_id else None,
        },
    )


def _is_exclusion_violation(exc: IntegrityError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return sqlstate == EXCLUSION_VIOLATION or EXCLUSION_CONSTRAINT in str(exc.orig)


@asynccontextmanager
async def guarded(
    session: AsyncSession,
    property_id: uuid.UUID,
    start: date,
    end: date,
    *,
    exclude_booking: uuid.UUID | None = None,
    exclude_block: uuid.UUID | None = None,
    savepoint: bool = True,
    agency_id: uuid.UUID | None = None,
) -> AsyncIterator[None]:
    """Make the writes that occupy ``[start, end)`` inside this block: they run in a savepoint,
    and a violated exclusion constraint becomes a 409 naming the clash while the outer
    transaction stays usable. (Changes made before the block would be flushed outside it.)

    ``savepoint=False`` saves the savepoint's two round trips for a caller whose transaction
    ends with the 409 anyway (one API request): a violation then rolls the whole transaction
    back, and the clash is looked up in a fresh transaction of the property's ``agency_id``."""
    try:
        if savepoint:
            async with session.begin_nested():
                yield
                await session.flush()
        else:
            yield
            if session.new or session.dirty or session.deleted:  # a flush of nothing costs too
                await session.flush()
    except IntegrityError as exc:
        if not _is_exclusion_violation(exc):
            raise
        lookup = dict(exclude_booking=exclude_booking, exclude_block=exclude_block)
        if savepoint:
            clash = await find_clash(session, property_id, start, end, **lookup)
        else:
            # The transaction is lost: end it (which returns its connection to the pool) and
            # look in a fresh one, scoped to the same agency.
            assert agency_id is not None, "savepoint=False needs the agency to look up the clash"
            await session.rollback()
            async with db.transaction(agency_id) as fresh:
                clash = await find_clash(fresh, property_id, start, end, **lookup)
        raise conflict_error(clash, start, end) from None


# Literal values, not bind parameters: only then can the planner match the partial index.
# (``literal_execute`` renders each value into the statement when it runs, quoted.)
_ACTIVE_PREDICATE = OccupiedRange.status.in_(
    [literal(s, literal_execute=True) for s in INVENTORY_ACTIVE]
)


def active_overlapping(
    property_ids: list[uuid.UUID] | BindParameter[Any], start: Any, end: Any
) -> ColumnElement[bool]:
    """Active ranges of these properties overlapping ``[start, end)``; holds past their expiry
    count as free even before the job has expired them. The ids, start and end are values, or
    bind parameters (a uuid array and two dates) of a statement built once.

    Written in the exclusion constraint's own terms (the same status list as literals, the same
    daterange overlap) so PostgreSQL can answer it from the constraint's GiST index, which
    holds exactly the active rows, instead of scanning every past stay of each property."""
    ids = (
        property_ids
        if isinstance(property_ids, BindParameter)
        else sqlarrays.uuid_array(property_ids)
    )
    return active_overlapping_where(OccupiedRange.property_id == any_(ids), start, end)


def active_overlapping_where(
    properties: ColumnElement[bool],
    start: date | ColumnElement[Any],
    end: date | ColumnElement[Any],
) -> ColumnElement[bool]:
    """`active_overlapping` for the ranges `properties` selects, with the window given as
    values or as SQL (bind parameters of a statement built once)."""
    return and_(
        properties,
        _ACTIVE_PREDICATE,
        # The same overlap in plain date comparisons, which row-level security lets into an
        # index condition (``&&`` is not leakproof): with ix_occupied_ranges_property_id_end
        # only ranges ending after ``start`` are read, not every past stay of the property.
        OccupiedRange.end > start,
        OccupiedRange.start < end,
        func.daterange(OccupiedRange.start, OccupiedRange.end, "[)").op("&&")(
            func.daterange(start, end, "[)")
        ),
        ~and_(
            OccupiedRange.status == BookingStatus.HOLD.value,
            OccupiedRange.hold_expires_at <= func.now(),
        ),
    )


async def occupied(
    session: AsyncSession, property_ids: list[uuid.UUID], start: date, end: date
) -> list[OccupiedRange]:
    rows = await session.execute(
        select(OccupiedRange)
        .where(active_overlapping(property_ids, start, end))
        .order_by(OccupiedRange.property_id, OccupiedRange.start)
    )
    return list(rows.scalars().all())
