"""Listing mappings: a platform listing ↔ a property and rate plan, with a per-channel markup
and what to sync. Activating one runs a full sync of the platform's window; unmapping stops the
sync and leaves the platform as it was."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pms.channel import connections
from pms.channel.adapters import adapter_for
from pms.channel.engine import dirty
from pms.core import audit, properties
from pms.core.ari_store import local_today
from pms.core.errors import Conflict, NotFound, Unprocessable
from pms.core.permissions import Permission
from pms.core.tenancy import Actor
from pms.models.channel import ChannelDirty, ChannelMapping, ChannelNight, MarkupKind
from pms.models.rates import RatePlan
from pms.settings import Settings


@dataclass(frozen=True)
class MappingInput:
    remote_listing_id: str
    property_id: uuid.UUID
    rate_plan_id: uuid.UUID | None
    markup_kind: MarkupKind
    markup_value: int
    sync_availability: bool
    sync_prices: bool
    sync_restrictions: bool


def _view(m: ChannelMapping) -> dict[str, Any]:
    return {
        "remote_listing_id": m.remote_listing_id,
        "property_id": str(m.property_id),
        "rate_plan_id": str(m.rate_plan_id),
        "markup_kind": m.markup_kind,
        "markup_value": m.markup_value,
        "sync": [m.sync_availability, m.sync_prices, m.sync_restrictions],
        "active": m.active,
    }


async def get(
    session: AsyncSession, actor: Actor, mapping_id: uuid.UUID, *, lock: bool = False
) -> ChannelMapping:
    actor.require(Permission.CHANNELS_READ)
    stmt = select(ChannelMapping).where(
        ChannelMapping.id == mapping_id,
        ChannelMapping.agency_id == actor.require_agency(),
        ChannelMapping.active,
    )
    if lock:
        stmt = stmt.with_for_update()
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound("Channel mapping not found.")
    return found


async def list_for_connection(
    session: AsyncSession, actor: Actor, connection_id: uuid.UUID
) -> list[ChannelMapping]:
    connection = await connections.get(session, actor, connection_id)
    return list(
        (
            await session.execute(
                select(ChannelMapping)
                .where(ChannelMapping.connection_id == connection.id, ChannelMapping.active)
                .order_by(ChannelMapping.created_at)
            )
        ).scalars()
    )


def _same_currency(listing: dict[str, Any], currency: str) -> None:
    """Prices go out and bookings come in in the listing's currency, and there is no exchange
    rate source: a listing priced in another currency than the property cannot be mapped."""
    theirs = str(listing.get("currency") or "")
    if theirs and theirs != currency:
        raise Unprocessable(
            f"The listing is priced in {theirs} and the property in {currency}; change the "
            "listing's currency on the platform or map it to a property in that currency.",
            errors=[
                {
                    "field": "property_id",
                    "in": "body",
                    "message": f"currency {currency} differs from the listing's {theirs}",
                }
            ],
        )


async def _plan(
    session: AsyncSession, property_id: uuid.UUID, rate_plan_id: uuid.UUID | None
) -> RatePlan:
    stmt = select(RatePlan).where(RatePlan.property_id == property_id)
    stmt = (
        stmt.where(RatePlan.id == rate_plan_id)
        if rate_plan_id is not None
        else stmt.where(RatePlan.is_default)
    )
    plan = (await session.execute(stmt)).scalar_one_or_none()
    if plan is None:
        raise Unprocessable(
            "The property needs a rate plan to sync (or this plan is not the property's).",
            errors=[{"field": "rate_plan_id", "in": "body", "message": "no such plan here"}],
        )
    return plan


async def full_sync(
    session: AsyncSession, settings: Settings, mapping: ChannelMapping, timezone: str
) -> None:
    """Forget what the platform acknowledged and queue the whole window: every night is sent
    once (a full sync), after which only differences are."""
    await session.execute(delete(ChannelNight).where(ChannelNight.mapping_id == mapping.id))
    today = local_today(timezone)
    days = min(settings.channel_sync_days, adapter_for(mapping.platform, settings).window_days)
    await dirty.request_sync(
        session, mapping.agency_id, [mapping.id], today, today + timedelta(days=days)
    )


# Platforms whose guests pay our own quote (Vrbo asks our quote engine; Google sends guests to
# our booking page): a markup on what they show would differ from what the guest is charged.
_QUOTED_BY_US = ("fewo_direkt", "google")


def _no_markup_where_we_quote(platform: str, kind: str, value: int) -> None:
    if platform in _QUOTED_BY_US and (kind != MarkupKind.NONE and value):
        raise Unprocessable(
            f"{platform} shows the price our quote engine gives, so its mappings take no markup.",
            errors=[{"field": "markup_kind", "in": "body", "message": "must be none"}],
        )


async def create(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    connection_id: uuid.UUID,
    data: MappingInput,
) -> ChannelMapping:
    actor.require(Permission.CHANNELS_MANAGE)
    connection = await connections.get(session, actor, connection_id)
    known = {str(x.get("id")): x for x in connection.remote_listings}
    if data.remote_listing_id not in known:
        raise Unprocessable(
            "This listing is not one of the connection's listings (list them first).",
            errors=[{"field": "remote_listing_id", "in": "body", "message": "unknown listing"}],
        )
    _no_markup_where_we_quote(connection.platform, data.markup_kind, data.markup_value)
    prop = await properties.get(session, actor, data.property_id)
    _same_currency(known[data.remote_listing_id], prop.currency)
    plan = await _plan(session, prop.id, data.rate_plan_id)
    mapping = ChannelMapping(
        id=uuid.uuid4(),
        agency_id=connection.agency_id,
        connection_id=connection.id,
        platform=connection.platform,
        remote_listing_id=data.remote_listing_id,
        property_id=prop.id,
        rate_plan_id=plan.id,
        markup_kind=data.markup_kind,
        markup_value=data.markup_value,
        sync_availability=data.sync_availability,
        sync_prices=data.sync_prices,
        sync_restrictions=data.sync_restrictions,
        active=True,
        failures_in_row=0,
    )
    session.add(mapping)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(
            "This listing is already mapped.", conflict_type="listing_already_mapped"
        ) from None
    await audit.record(
        session,
        actor,
        agency_id=mapping.agency_id,
        entity_type="channel_mapping",
        entity_id=mapping.id,
        action="created",
        after=_view(mapping),
    )
    await full_sync(session, settings, mapping, prop.timezone)
    return mapping


async def update(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    mapping_id: uuid.UUID,
    changes: dict[str, Any],
) -> ChannelMapping:
    """Change markup, plan or what to sync; the new values reach the platform by a full sync."""
    actor.require(Permission.CHANNELS_MANAGE)
    mapping = await get(session, actor, mapping_id, lock=True)
    before = _view(mapping)
    if "rate_plan_id" in changes:
        mapping.rate_plan_id = (
            await _plan(session, mapping.property_id, changes["rate_plan_id"])
        ).id
    for key in (
        "markup_kind",
        "markup_value",
        "sync_availability",
        "sync_prices",
        "sync_restrictions",
    ):
        if key in changes and changes[key] is not None:
            setattr(mapping, key, changes[key])
    _no_markup_where_we_quote(mapping.platform, mapping.markup_kind, mapping.markup_value)
    if _view(mapping) == before:
        return mapping
    await audit.record(
        session,
        actor,
        agency_id=mapping.agency_id,
        entity_type="channel_mapping",
        entity_id=mapping.id,
        action="updated",
        before=before,
        after=_view(mapping),
    )
    prop = await properties.get(session, actor, mapping.property_id)
    await full_sync(session, settings, mapping, prop.timezone)
    return mapping


async def unmap(session: AsyncSession, actor: Actor, mapping_id: uuid.UUID) -> None:
    """Stop syncing: nothing more is sent, and the platform keeps what it shows."""
    actor.require(Permission.CHANNELS_MANAGE)
    mapping = await get(session, actor, mapping_id, lock=True)
    mapping.active = False
    await session.execute(delete(ChannelDirty).where(ChannelDirty.mapping_id == mapping.id))
    await audit.record(
        session,
        actor,
        agency_id=mapping.agency_id,
        entity_type="channel_mapping",
        entity_id=mapping.id,
        action="unmapped",
        before=_view(mapping),
    )
