"""The public side's tenancy: agencies are chosen by their public slug, requests act as an
anonymous guest of that agency, and only listed, live properties exist there."""

from __future__ import annotations

import uuid

from sqlalchemy import String, bindparam, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core.errors import NotFound
from pms.core.tenancy import Actor
from pms.models.agency import Agency
from pms.models.property import Property

# Built once: every public request starts with it.
_BY_SLUG = select(
    Agency,
    func.set_config("app.user_id", "", True),
    func.set_config("app.agency_id", cast(Agency.id, String), True),
).where(Agency.slug == bindparam("slug", type_=Agency.slug.type))


async def agency_by_slug(session: AsyncSession, slug: str) -> tuple[Agency, Actor]:
    """The agency, with the transaction scoped to it for row-level security (no user) by the
    same round trip, as `tenancy.scope_transaction` would scope it."""
    row = (await session.execute(_BY_SLUG, {"slug": slug})).first()
    if row is None:
        raise NotFound("No such agency.")
    agency: Agency = row[0]
    return agency, Actor.guest_of(agency.id)


async def listed_property(
    session: AsyncSession, agency_id: uuid.UUID, property_id: uuid.UUID
) -> Property:
    """Only listed, undeleted properties: an unlisted or deleted one is a 404 to the public, as
    if it did not exist."""
    prop = (
        await session.execute(
            select(Property).where(
                Property.id == property_id,
                Property.agency_id == agency_id,
                Property.is_listed.is_(True),
                Property.deleted_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    if prop is None:
        raise NotFound("No such property.")
    return prop


async def listed_properties(session: AsyncSession, agency_id: uuid.UUID) -> list[Property]:
    rows = await session.execute(
        select(Property)
        .where(
            Property.agency_id == agency_id,
            Property.is_listed.is_(True),
            Property.deleted_at.is_(None),
        )
        .order_by(Property.name)
    )
    return list(rows.scalars().all())
