"""Google Vacation Rentals, per connection: the Hotel List Feed of its mapped listings (with a
fidelity warning for each listing that lacks what Google requires, never silently left out),
Property Data for each listing, and the landing pages guests arrive on (our booking site)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.channel import connections
from pms.channel.adapters import google
from pms.channel.adapters.base import PlatformError
from pms.core.errors import NotFound, Unprocessable
from pms.core.permissions import Permission
from pms.core.tenancy import Actor
from pms.models.agency import Agency
from pms.models.channel import ChannelConnection, ChannelMapping
from pms.models.property import Property
from pms.settings import Settings


@dataclass(frozen=True)
class ListingFeed:
    xml: bytes
    listings: int
    warnings: list[tuple[str, uuid.UUID, list[str]]]
    landing_page_template: str


async def _connection(
    session: AsyncSession, actor: Actor, connection_id: uuid.UUID
) -> ChannelConnection:
    connection = await connections.get(session, actor, connection_id)
    if connection.platform != "google":
        raise Unprocessable(
            "This is not a Google Vacation Rentals connection.",
            errors=[{"field": "connection_id", "in": "path", "message": "not google"}],
        )
    return connection


async def _listings(
    session: AsyncSession, settings: Settings, connection: ChannelConnection
) -> tuple[str, list[tuple[google.ListingInfo, Property]]]:
    slug = (
        await session.execute(select(Agency.slug).where(Agency.id == connection.agency_id))
    ).scalar_one()
    rows = (
        await session.execute(
            select(ChannelMapping, Property)
            .join(Property, Property.id == ChannelMapping.property_id)
            .where(
                ChannelMapping.connection_id == connection.id,
                ChannelMapping.active,
                Property.deleted_at.is_(None),
            )
            .order_by(ChannelMapping.remote_listing_id)
        )
    ).all()
    out = []
    for mapping, prop in rows:
        # The landing page is the property's page on our booking site: only listed ones have one.
        website = (
            google.property_page(settings.booking_site_url, slug, str(prop.id))
            if prop.is_listed
            else None
        )
        out.append(
            (
                google.ListingInfo(
                    listing_id=mapping.remote_listing_id,
                    property_id=str(prop.id),
                    name=prop.name,
                    address_line1=prop.address_line1,
                    city=prop.city,
                    postal_code=prop.postal_code,
                    country=prop.country,
                    latitude=prop.latitude,
                    longitude=prop.longitude,
                    capacity=prop.max_guests,
                    website=website,
                ),
                prop,
            )
        )
    return slug, out


async def listing_feed(
    session: AsyncSession, actor: Actor, settings: Settings, connection_id: uuid.UUID
) -> ListingFeed:
    connection = await _connection(session, actor, connection_id)
    slug, found = await _listings(session, settings, connection)
    complete = [info for info, _ in found if not google.missing(info)]
    warnings = [
        (info.listing_id, prop.id, google.missing(info))
        for info, prop in found
        if google.missing(info)
    ]
    return ListingFeed(
        xml=google.hotel_list_feed(complete),
        listings=len(complete),
        warnings=warnings,
        landing_page_template=google.landing_template(settings.public_base_url, slug),
    )


async def push_property_data(
    session: AsyncSession, actor: Actor, settings: Settings, connection_id: uuid.UUID
) -> tuple[list[str], dict[str, str]]:
    """Property Data for every mapped listing: the listing as its one room (name, capacity)
    and our one package. Per listing, so one refusal does not hide the others."""
    actor.require(Permission.CHANNELS_MANAGE)
    connection = await _connection(session, actor, connection_id)
    credentials = connections.unseal(settings, connection)
    adapter = google.GoogleAdapter(settings)
    _, found = await _listings(session, settings, connection)
    pushed: list[str] = []
    failed: dict[str, str] = {}
    for info, _ in found:
        try:
            await adapter.describe(credentials, info.listing_id, info.name, info.capacity)
        except PlatformError as exc:
            failed[info.listing_id] = str(exc)
        else:
            pushed.append(info.listing_id)
    return pushed, failed


async def landing_property(
    session: AsyncSession, agency_id: uuid.UUID, listing_id: str
) -> uuid.UUID:
    """The listed property behind one of the agency's Google listings (an active mapping of a
    Google connection); anything else is a 404, as a property the public cannot see."""
    found = (
        await session.execute(
            select(Property.id)
            .join(ChannelMapping, ChannelMapping.property_id == Property.id)
            .join(ChannelConnection, ChannelConnection.id == ChannelMapping.connection_id)
            .where(
                ChannelConnection.agency_id == agency_id,
                ChannelConnection.platform == "google",
                ChannelMapping.remote_listing_id == listing_id,
                ChannelMapping.active,
                Property.agency_id == agency_id,
                Property.is_listed,
                Property.deleted_at.is_(None),
            )
            .limit(1)
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("No such listing.")
    return found
