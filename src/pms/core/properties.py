"""Properties of an agency; owners see only their own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import audit, listing
from pms.core.booking_status import OCCUPYING
from pms.core.errors import Conflict, NotFound, Unprocessable
from pms.core.listing import Sortable
from pms.core.tenancy import Actor
from pms.models.agency import Membership
from pms.models.booking import Booking
from pms.models.property import Property
from pms.schemas.property import PropertyCreate, PropertyUpdate

SORTABLE: dict[str, Sortable] = {
    "name": Property.name,
    "created_at": Property.created_at,
    "max_guests": Property.max_guests,
    "city": Property.city,
}


def visible(actor: Actor) -> Select[Property]:
    """Every property query starts here: the agency's live properties, narrowed for owners."""
    return select(Property).where(
        *visibility(actor.require_agency(), actor.user_id if actor.is_owner else None)
    )


def visibility(agency_id: Any, owner_user_id: Any | None) -> list[ColumnElement[bool]]:
    """The rule of ``visible``, for values or bind parameters (a statement built once): the
    agency's live properties; only an owner's own when ``owner_user_id`` is given."""
    # The table's columns: the rule also serves statements of plain columns (see
    # `pms.models.plain`), which the mapped attributes would turn into ORM statements.
    c = Property.__table__.c
    rule = [c.agency_id == agency_id, c.deleted_at.is_(None)]
    if owner_user_id is not None:
        rule.append(c.owner_user_id == owner_user_id)
    return rule


def not_found() -> NotFound:
    return NotFound("Property not found.")


async def get(session: AsyncSession, actor: Actor, property_id: uuid.UUID) -> Property:
    prop = (
        await session.execute(visible(actor).where(Property.id == property_id))
    ).scalar_one_or_none()
    if prop is None:
        raise not_found()
    return prop


async def get_for_update(session: AsyncSession, actor: Actor, property_id: uuid.UUID) -> Property:
    prop = (
        await session.execute(visible(actor).where(Property.id == property_id).with_for_update())
    ).scalar_one_or_none()
    if prop is None:
        raise not_found()
    return prop


async def list_(
    session: AsyncSession,
    actor: Actor,
    *,
    q: str | None,
    is_listed: bool | None,
    owner_user_id: uuid.UUID | None,
    city: str | None,
    sort: str,
    limit: int,
    offset: int,
) -> tuple[list[Property], int]:
    stmt = visible(actor)
    if q:
        stmt = stmt.where(Property.name.ilike(f"%{listing.escape_like(q)}%", escape="\\"))
    if is_listed is not None:
        stmt = stmt.where(Property.is_listed.is_(is_listed))
    if owner_user_id is not None:
        stmt = stmt.where(Property.owner_user_id == owner_user_id)
    if city:
        stmt = stmt.where(Property.city.ilike(listing.escape_like(city), escape="\\"))
    stmt = listing.order_by(stmt, f"{sort},id", {**SORTABLE, "id": Property.id})
    return await listing.page(session, stmt, limit, offset)


async def _check_owner(
    session: AsyncSession, actor: Actor, owner_user_id: uuid.UUID | None
) -> None:
    if owner_user_id is None:
        return
    member = await session.get(Membership, (actor.require_agency(), owner_user_id))
    if member is None:
        raise Unprocessable(
            "The owner must be a member of this agency.",
            errors=[{"field": "owner_user_id", "in": "body", "message": "not a member"}],
        )


async def create(session: AsyncSession, actor: Actor, data: PropertyCreate) -> Property:
    agency_id = actor.require_agency()
    await _check_owner(session, actor, data.owner_user_id)
    prop = Property(id=uuid.uuid4(), agency_id=agency_id, **data.model_dump())
    session.add(prop)
    await session.flush()
    await audit.created(session, actor, "property", prop)
    return prop


async def update(
    session: AsyncSession, actor: Actor, property_id: uuid.UUID, data: PropertyUpdate
) -> Property:
    prop = await get_for_update(session, actor, property_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    for required in (
        "name",
        "timezone",
        "currency",
        "max_guests",
        "bedrooms",
        "bathrooms",
        "check_in_time",
        "check_out_time",
        "is_listed",
        "instant_book",
        "amenities",
    ):
        if required in changes and changes[required] is None:
            raise Unprocessable(
                f"{required} cannot be null.",
                errors=[{"field": required, "in": "body", "message": "cannot be null"}],
            )
    if "owner_user_id" in changes:
        await _check_owner(session, actor, changes["owner_user_id"])
    before = audit.snapshot(prop)
    for key, value in changes.items():
        setattr(prop, key, value)
    if changes:
        prop.version += 1
        await session.flush()
        await audit.record(
            session,
            actor,
            agency_id=prop.agency_id,
            entity_type="property",
            entity_id=prop.id,
            action="updated",
            before=before,
            after=audit.snapshot(prop),
        )
    return prop


async def delete(session: AsyncSession, actor: Actor, property_id: uuid.UUID) -> None:
    """Soft delete; refused while the property has stays still to come."""
    prop = await get_for_update(session, actor, property_id)
    await _refuse_if_future_stays(session, prop)
    before = audit.snapshot(prop)
    prop.deleted_at = datetime.now(UTC)
    prop.is_listed = False
    prop.version += 1
    await session.flush()
    await audit.record(
        session,
        actor,
        agency_id=prop.agency_id,
        entity_type="property",
        entity_id=prop.id,
        action="deleted",
        before=before,
        after=audit.snapshot(prop),
    )


async def _refuse_if_future_stays(session: AsyncSession, prop: Property) -> None:
    today = datetime.now(UTC).date()
    count = (
        await session.execute(
            select(func.count())
            .select_from(Booking)
            .where(
                Booking.property_id == prop.id,
                Booking.status.in_(OCCUPYING),
                Booking.check_out > today,
            )
        )
    ).scalar_one()
    if count:
        raise Conflict(
            f"The property has {count} current or future booking(s); cancel or move them first.",
            conflict_type="future_bookings",
        )
