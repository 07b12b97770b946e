"""Guests: one record per person per agency (e-mail unique ignoring case); GDPR export/erase."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy import update as update_rows
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import audit, listing
from pms.core.errors import Conflict, NotFound, Unprocessable
from pms.core.listing import Sortable
from pms.core.tenancy import Actor
from pms.models.booking import Booking
from pms.models.guest import Guest
from pms.schemas.guest import GuestCreate, GuestUpdate

SORTABLE: dict[str, Sortable] = {
    "last_name": Guest.last_name,
    "first_name": Guest.first_name,
    "email": Guest.email,
    "created_at": Guest.created_at,
}

ERASED_NAME = "Erased"


def by_id(agency_id: Any, guest_id: Any) -> ColumnElement[bool]:
    """The guest ``guest_id`` of the agency (values or bind parameters). Of the table's columns,
    as `properties.visibility`."""
    c = Guest.__table__.c
    return and_(c.agency_id == agency_id, c.id == guest_id)


async def get(
    session: AsyncSession, actor: Actor, guest_id: uuid.UUID, *, lock: bool = False
) -> Guest:
    stmt = select(Guest).where(by_id(actor.require_agency(), guest_id))
    if lock:
        stmt = stmt.with_for_update()
    guest = (await session.execute(stmt)).scalar_one_or_none()
    if guest is None:
        raise not_found()
    return guest


def not_found() -> NotFound:
    return NotFound("Guest not found.")


async def find_by_email(session: AsyncSession, agency_id: uuid.UUID, email: str) -> Guest | None:
    return (
        await session.execute(
            select(Guest).where(
                Guest.agency_id == agency_id, func.lower(Guest.email) == email.strip().lower()
            )
        )
    ).scalar_one_or_none()


async def list_(
    session: AsyncSession,
    actor: Actor,
    *,
    q: str | None,
    email: str | None,
    sort: str,
    limit: int,
    offset: int,
) -> tuple[list[Guest], int]:
    stmt = select(Guest).where(Guest.agency_id == actor.require_agency())
    if q:
        pattern = f"%{listing.escape_like(q)}%"
        stmt = stmt.where(
            or_(
                Guest.last_name.ilike(pattern, escape="\\"),
                Guest.first_name.ilike(pattern, escape="\\"),
                Guest.email.ilike(pattern, escape="\\"),
            )
        )
    if email:
        stmt = stmt.where(func.lower(Guest.email) == email.strip().lower())
    stmt = listing.order_by(stmt, f"{sort},id", {**SORTABLE, "id": Guest.id})
    return await listing.page(session, stmt, limit, offset)


def _email_taken() -> Conflict:
    return Conflict(
        "A guest with this e-mail already exists in this agency.",
        conflict_type="guest_email_taken",
        errors=[{"field": "email", "in": "body", "message": "already used by another guest"}],
    )


async def create(session: AsyncSession, actor: Actor, data: GuestCreate) -> Guest:
    agency_id = actor.require_agency()
    values = data.model_dump()
    if values.get("email"):
        values["email"] = values["email"].lower()
        if await find_by_email(session, agency_id, values["email"]):
            raise _email_taken()
    guest = Guest(id=uuid.uuid4(), agency_id=agency_id, **values)
    session.add(guest)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise _email_taken() from None  # a concurrent insert won the unique index
    await audit.created(session, actor, "guest", guest)
    return guest


async def update(
    session: AsyncSession, actor: Actor, guest_id: uuid.UUID, data: GuestUpdate
) -> Guest:
    guest = await get(session, actor, guest_id, lock=True)
    if guest.erased_at is not None:
        raise Conflict("This guest was erased and cannot be changed.", conflict_type="guest_erased")
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    if "last_name" in changes and changes["last_name"] is None:
        raise Unprocessable(
            "last_name cannot be null.",
            errors=[{"field": "last_name", "in": "body", "message": "cannot be null"}],
        )
    if changes.get("email"):
        changes["email"] = changes["email"].lower()
        other = await find_by_email(session, guest.agency_id, changes["email"])
        if other is not None and other.id != guest.id:
            raise _email_taken()
    if changes.get("language", "x") is None:
        changes.pop("language")
    before = audit.snapshot(guest)
    for key, value in changes.items():
        setattr(guest, key, value)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise _email_taken() from None
    await audit.record(
        session,
        actor,
        agency_id=guest.agency_id,
        entity_type="guest",
        entity_id=guest.id,
        action="updated",
        before=before,
        after=audit.snapshot(guest),
    )
    return guest


async def export(
    session: AsyncSession, actor: Actor, guest_id: uuid.UUID
) -> tuple[Guest, dict[str, list[dict[str, Any]]]]:
    guest = await get(session, actor, guest_id)
    stays = await session.execute(select(Booking).where(Booking.guest_id == guest.id))
    related = {"bookings": [audit.snapshot(b) for b in stays.scalars().all()]}
    await audit.record(
        session,
        actor,
        agency_id=guest.agency_id,
        entity_type="guest",
        entity_id=guest.id,
        action="exported",
    )
    return guest, related


async def erase(session: AsyncSession, actor: Actor, guest_id: uuid.UUID) -> Guest:
    """Anonymise: personal data goes, the record (and later its bookings) stays for accounting."""
    guest = await get(session, actor, guest_id, lock=True)
    if guest.erased_at is not None:
        return guest
    guest.email = None
    guest.first_name = None
    guest.last_name = ERASED_NAME
    guest.phone = None
    guest.notes = None
    guest.erased_at = datetime.now(UTC)
    # Bookings stay for accounting; their free text, which may hold personal data, goes.
    await session.execute(
        update_rows(Booking).where(Booking.guest_id == guest.id).values(notes=None)
    )
    await session.flush()
    await audit.redact_entity(session, "guest", guest.id)
    await audit.record(
        session,
        actor,
        agency_id=guest.agency_id,
        entity_type="guest",
        entity_id=guest.id,
        action="erased",
    )
    return guest
