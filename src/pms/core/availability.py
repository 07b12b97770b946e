"""The availability calendar: one entry per day per property, from the occupied ranges."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import inventory, properties
from pms.core.booking_status import BLOCK_MARKER, BookingStatus
from pms.core.errors import NotFound, Unprocessable
from pms.core.tenancy import Actor
from pms.models.block import Block, BlockKind
from pms.models.booking import Booking
from pms.models.property import Property
from pms.schemas.booking import Calendar, Day, PropertyCalendar

MAX_DAYS = 366
MAX_PROPERTIES = 500


def check_range(start: date, end: date) -> None:
    if end <= start:
        raise Unprocessable(
            "end must be after start.",
            errors=[{"field": "end", "in": "query", "message": "not after start"}],
        )
    if (end - start).days > MAX_DAYS:
        raise Unprocessable(
            f"At most {MAX_DAYS} days per request.",
            errors=[{"field": "end", "in": "query", "message": f"range over {MAX_DAYS} days"}],
        )


async def calendar(
    session: AsyncSession,
    actor: Actor,
    start: date,
    end: date,
    property_ids: list[uuid.UUID] | None,
) -> Calendar:
    check_range(start, end)
    stmt = properties.visible(actor).with_only_columns(Property.id).order_by(Property.name)
    if property_ids:
        if len(property_ids) > MAX_PROPERTIES:
            raise Unprocessable(
                f"At most {MAX_PROPERTIES} properties per request.",
                errors=[{"field": "property_ids", "in": "query", "message": "too many"}],
            )
        stmt = stmt.where(Property.id.in_(property_ids))
    ids = list((await session.execute(stmt)).scalars().all())
    if property_ids and len(ids) != len(set(property_ids)):
        raise NotFound("One or more properties were not found.")
    ranges = await inventory.occupied(session, ids, start, end) if ids else []
    booking_ids = [r.booking_id for r in ranges if r.booking_id]
    block_ids = [r.block_id for r in ranges if r.block_id]
    labels: dict[uuid.UUID, str] = {}
    if booking_ids:
        rows = await session.execute(
            select(Booking.id, Booking.reference).where(Booking.id.in_(booking_ids))
        )
        labels.update({bid: ref for bid, ref in rows.all()})
    if block_ids:
        rows = await session.execute(select(Block.id, Block.kind).where(Block.id.in_(block_ids)))
        labels.update({bid: f"{BlockKind(kind).value} block" for bid, kind in rows.all()})

    n = (end - start).days
    dates = [start + timedelta(days=i) for i in range(n)]
    by_property: dict[uuid.UUID, list[Day]] = {
        pid: [Day(date=d, status="free") for d in dates] for pid in ids
    }
    for r in ranges:
        days = by_property[r.property_id]
        status = (
            "blocked"
            if r.status == BLOCK_MARKER
            else "hold"
            if r.status == BookingStatus.HOLD.value
            else "booked"
        )
        ref = r.booking_id or r.block_id
        label = labels.get(ref) if ref else None
        first = max(r.start, start)
        last = min(r.end, end)
        for i in range((first - start).days, (last - start).days):
            days[i] = Day(
                date=dates[i],
                status=status,
                booking_id=r.booking_id,
                block_id=r.block_id,
                label=label,
            )
    return Calendar(
        start=start,
        end=end,
        properties=[PropertyCalendar(property_id=pid, days=by_property[pid]) for pid in ids],
    )
