"""Reading bookings: every query starts from what the actor may see."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import (
    ColumnElement,
    Select,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import (
    listing,
)
from pms.core.booking_status import BookingStatus
from pms.core.errors import NotFound
from pms.core.listing import Sortable
from pms.core.tenancy import Actor
from pms.models.booking import Booking, BookingSource
from pms.models.guest import Guest
from pms.models.property import Property


def visible(actor: Actor) -> Select[Booking, Guest]:
    """Every booking query starts here: the agency's bookings, narrowed to owned properties.
    (The guest is None only for a hold whose checkout has not reached the guest step.)"""
    stmt = (
        select(Booking, Guest)
        .outerjoin(Guest, Guest.id == Booking.guest_id)
        .where(Booking.agency_id == actor.require_agency())
    )
    if actor.is_owner:
        owned = select(Property.id).where(Property.owner_user_id == actor.user_id)
        stmt = stmt.where(Booking.property_id.in_(owned))
    return stmt


async def get(
    session: AsyncSession, actor: Actor, booking_id: uuid.UUID, *, lock: bool = False
) -> tuple[Booking, Guest | None]:
    stmt = visible(actor).where(Booking.id == booking_id)
    if lock:
        stmt = stmt.with_for_update(of=Booking)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound("Booking not found.")
    return row[0], row[1]


async def list_(
    session: AsyncSession,
    actor: Actor,
    *,
    property_id: uuid.UUID | None,
    statuses: list[BookingStatus],
    source: BookingSource | None,
    guest_id: uuid.UUID | None,
    guest: str | None,
    start: date | None,
    end: date | None,
    sort: str,
    limit: int,
    offset: int,
) -> tuple[list[tuple[Booking, Guest | None]], int]:
    stmt = visible(actor)
    if property_id is not None:
        stmt = stmt.where(Booking.property_id == property_id)
    if statuses:
        stmt = stmt.where(Booking.status.in_(statuses))
    if source is not None:
        stmt = stmt.where(Booking.source == source)
    if guest_id is not None:
        stmt = stmt.where(Booking.guest_id == guest_id)
    if guest:
        stmt = stmt.where(guest_matches(actor, guest))
    if start is not None:
        stmt = stmt.where(Booking.check_out > start)
    if end is not None:
        stmt = stmt.where(Booking.check_in < end)
    stmt = listing.order_by(stmt, f"{sort},id", {**SORTABLE, "id": Booking.id})
    total = (
        await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))
    ).scalar_one()
    rows = (await session.execute(stmt.limit(limit).offset(offset))).all()
    return [(r[0], r[1]) for r in rows], int(total)


def guest_matches(actor: Actor, text: str) -> ColumnElement[bool]:
    """The guest's first or last name, e-mail or the booking's reference contains ``text``
    (case-insensitive). Owners, who never see guests' contact details, cannot search by them."""
    pattern = f"%{listing.escape_like(text.strip())}%"
    fields = [Guest.first_name, Guest.last_name, Booking.reference]
    if not actor.is_owner:
        fields.append(Guest.email)
    return or_(*(f.ilike(pattern, escape="\\") for f in fields))


SORTABLE: dict[str, Sortable] = {
    "check_in": Booking.check_in,
    "check_out": Booking.check_out,
    "created_at": Booking.created_at,
    "reference": Booking.reference,
    "status": Booking.status,
}
