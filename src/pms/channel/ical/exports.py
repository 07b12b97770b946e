"""Export feeds: secret, revocable URLs that publish a property's occupied nights as iCal.

Only a token's SHA-256 is stored. The public endpoint finds the export by that hash as a declared
system job (no agency is known yet), then drops system access and reads the calendar scoped to
the export's agency like any other request.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.channel.ical.ranges import NightRange
from pms.channel.ical.render import ExportEvent, ExportKind, RenderedFeed, render_feed
from pms.core import audit, properties
from pms.core.booking_status import BLOCK_MARKER, INVENTORY_ACTIVE, BookingStatus
from pms.core.errors import NotFound
from pms.core.permissions import Permission
from pms.core.tenancy import Actor, scope_transaction
from pms.core.tokens import token_hash
from pms.db import system_access
from pms.models.block import Block
from pms.models.booking import Booking
from pms.models.ical import IcalExport, IcalFeed
from pms.models.inventory import OccupiedRange
from pms.models.outbox import OutboxEvent
from pms.models.property import Property

# Nights that ended this long ago still appear, so a platform that polls late sees the checkout.
HISTORY = timedelta(days=30)
TOKEN_BYTES = 24


@dataclass(frozen=True)
class IssuedExport:
    """An export with its token in clear, returned once on creation or rotation."""

    export: IcalExport
    token: str


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def feed_path(token: str) -> str:
    return f"/ical/{token}.ics"


async def list_(session: AsyncSession, actor: Actor, property_id: uuid.UUID) -> list[IcalExport]:
    actor.require(Permission.CHANNELS_READ)
    prop = await properties.get(session, actor, property_id)
    rows = await session.execute(
        select(IcalExport)
        .where(
            IcalExport.agency_id == prop.agency_id,
            IcalExport.property_id == prop.id,
            IcalExport.revoked_at.is_(None),
        )
        .order_by(IcalExport.created_at, IcalExport.id)
    )
    return list(rows.scalars().all())


async def create(
    session: AsyncSession,
    actor: Actor,
    property_id: uuid.UUID,
    *,
    exclude_source: str | None,
    include_holds: bool,
    token: str | None = None,
) -> IssuedExport:
    """A new export URL; ``exclude_source`` leaves out what was imported from that platform."""
    actor.require(Permission.CHANNELS_MANAGE)
    prop = await properties.get(session, actor, property_id)
    token = token or new_token()
    export = IcalExport(
        id=uuid.uuid4(),
        agency_id=prop.agency_id,
        property_id=prop.id,
        token_hash=token_hash(token),
        token_hint=token[:6],
        exclude_source=exclude_source,
        include_holds=include_holds,
        created_by=actor.user_id,
    )
    session.add(export)
    await session.flush()
    await session.refresh(export)
    await audit.created(session, actor, "ical_export", export)
    return IssuedExport(export, token)


async def _get_for_update(
    session: AsyncSession, actor: Actor, property_id: uuid.UUID, export_id: uuid.UUID
) -> IcalExport:
    prop = await properties.get(session, actor, property_id)
    export = (
        await session.execute(
            select(IcalExport)
            .where(
                IcalExport.id == export_id,
                IcalExport.agency_id == prop.agency_id,
                IcalExport.property_id == prop.id,
                IcalExport.revoked_at.is_(None),
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if export is None:
        raise NotFound("Export not found.")
    return export


async def rotate(
    session: AsyncSession, actor: Actor, property_id: uuid.UUID, export_id: uuid.UUID
) -> IssuedExport:
    """A new token for the same export; the old URL stops working at once."""
    actor.require(Permission.CHANNELS_MANAGE)
    export = await _get_for_update(session, actor, property_id, export_id)
    token = new_token()
    export.token_hash = token_hash(token)
    export.token_hint = token[:6]
    export.rotated_at = datetime.now(UTC)
    await session.flush()
    await audit.record(
        session,
        actor,
        agency_id=export.agency_id,
        entity_type="ical_export",
        entity_id=export.id,
        action="rotated",
    )
    return IssuedExport(export, token)


async def revoke(
    session: AsyncSession, actor: Actor, property_id: uuid.UUID, export_id: uuid.UUID
) -> None:
    actor.require(Permission.CHANNELS_MANAGE)
    export = await _get_for_update(session, actor, property_id, export_id)
    export.revoked_at = datetime.now(UTC)
    await audit.record(
        session,
        actor,
        agency_id=export.agency_id,
        entity_type="ical_export",
        entity_id=export.id,
        action="revoked",
    )


async def _resolve_token(session: AsyncSession, token: str) -> IcalExport | None:
    """Find a live export by its token, then scope the transaction to its agency."""
    await system_access(session)
    export = (
        await session.execute(
            select(IcalExport).where(
                IcalExport.token_hash == token_hash(token), IcalExport.revoked_at.is_(None)
            )
        )
    ).scalar_one_or_none()
    await system_access(session, on=False)
    if export is None:
        return None
    await scope_transaction(session, user_id=None, agency_id=export.agency_id)
    return export


async def export_events(
    session: AsyncSession, export: IcalExport, *, today: date
) -> tuple[list[ExportEvent], datetime | None]:
    """The export's occupied ranges, and when the property's availability last changed."""
    feed_source = (
        select(IcalFeed.source)
        .where(
            IcalFeed.agency_id == export.agency_id,
            func.split_part(Block.source_ref, ":", 2) == cast(IcalFeed.id, String),
        )
        .scalar_subquery()
    )
    statuses = [s for s in INVENTORY_ACTIVE if export.include_holds or s != BookingStatus.HOLD]
    stmt = (
        select(
            OccupiedRange.start,
            OccupiedRange.end,
            OccupiedRange.status,
            OccupiedRange.booking_id,
            OccupiedRange.block_id,
            OccupiedRange.updated_at,
        )
        .outerjoin(Booking, Booking.id == OccupiedRange.booking_id)
        .outerjoin(Block, Block.id == OccupiedRange.block_id)
        .where(
            OccupiedRange.agency_id == export.agency_id,
            OccupiedRange.property_id == export.property_id,
            OccupiedRange.status.in_(statuses),
            OccupiedRange.end > today - HISTORY,
            or_(
                OccupiedRange.status != BookingStatus.HOLD.value,
                OccupiedRange.hold_expires_at > func.now(),
            ),
        )
    )
    if export.exclude_source is not None:
        # No echo: what came from that platform (its bookings or its feed's blocks) goes back
        # to it as nothing, or it would block its own stays twice after a date change.
        stmt = stmt.where(
            or_(Booking.id.is_(None), Booking.source != export.exclude_source),
            or_(
                Block.id.is_(None),
                Block.source_ref.is_(None),
                ~Block.source_ref.startswith("ical:"),
                func.coalesce(feed_source, "") != export.exclude_source,
            ),
        )
    events = []
    newest: datetime | None = None
    for start, end, status, booking_id, block_id, updated_at in await session.execute(stmt):
        kind: ExportKind = (
            "block" if status == BLOCK_MARKER else "hold" if status == "hold" else "booking"
        )
        events.append(
            ExportEvent(
                nights=NightRange(start, end),
                kind=kind,
                source_id=str(booking_id or block_id),
                updated_at=updated_at,
            )
        )
        newest = updated_at if newest is None or updated_at > newest else newest
    # A deleted block leaves no row behind, so the last availability event counts as well.
    changed = (
        await session.execute(
            select(func.max(OutboxEvent.created_at)).where(
                OutboxEvent.agency_id == export.agency_id,
                OutboxEvent.aggregate_type == "property",
                OutboxEvent.aggregate_id == str(export.property_id),
                OutboxEvent.event_type == "availability.changed",
            )
        )
    ).scalar_one_or_none()
    for moment in (changed, export.updated_at):
        if moment is not None and (newest is None or moment > newest):
            newest = moment
    return events, newest


async def render_for_token(
    session: AsyncSession, token: str, *, domain: str, now: datetime
) -> RenderedFeed | None:
    """The feed behind a public URL, or ``None`` for an unknown or revoked token."""
    export = await _resolve_token(session, token)
    if export is None:
        return None
    prop = (
        await session.execute(
            select(Property).where(
                Property.id == export.property_id,
                Property.agency_id == export.agency_id,
                Property.deleted_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    if prop is None:
        return None
    today = now.astimezone(ZoneInfo(prop.timezone)).date()
    events, changed = await export_events(session, export, today=today)
    # Rendering a thousand events takes tens of milliseconds of CPU: off the event loop.
    return await asyncio.to_thread(
        functools.partial(
            render_feed, events, now=now, domain=domain, name=prop.name, last_modified=changed
        )
    )
