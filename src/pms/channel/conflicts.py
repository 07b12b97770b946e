"""Channel conflicts: platform bookings that collided with a stay already in Core. Resolving
one is an action with an audit row: ``move`` (new dates or property, re-checked by the
inventory guard; the booking becomes confirmed), ``cancel`` (on our side), or
``accept_overbooked`` (keep it as is, knowingly)."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import audit, blocks, bookings, inventory
from pms.core.booking_status import BookingStatus
from pms.core.errors import Conflict, NotFound, Unprocessable
from pms.core.permissions import Permission
from pms.core.tenancy import Actor
from pms.models.booking import Booking
from pms.models.channel import ChannelConflict


async def list_open(
    session: AsyncSession, actor: Actor, limit: int, offset: int
) -> tuple[list[ChannelConflict], int]:
    actor.require(Permission.CHANNELS_READ)
    from pms.core import listing

    stmt = (
        select(ChannelConflict)
        .where(
            ChannelConflict.agency_id == actor.require_agency(),
            ChannelConflict.resolved_at.is_(None),
        )
        .order_by(ChannelConflict.created_at, ChannelConflict.id)
    )
    return await listing.page(session, stmt, limit, offset)


async def hold_freed(session: AsyncSession, property_id: uuid.UUID, start: date, end: date) -> int:
    """Nights of ``[start, end)`` changed: an open conflict there whose clashing stay has since
    gone (cancelled, moved) would leave its nights open while the platform's guest still holds
    them; close them too (another block each). Returns how many conflicts got new holds."""
    from pms.channel.inbound import hold_free_nights, system_actor

    rows = (
        await session.execute(
            select(ChannelConflict, Booking.source, Booking.channel_booking_id)
            .join(Booking, Booking.id == ChannelConflict.booking_id)
            .where(
                ChannelConflict.property_id == property_id,
                ChannelConflict.resolved_at.is_(None),
                ChannelConflict.start < end,
                ChannelConflict.end > start,
            )
            .with_for_update(of=ChannelConflict)
        )
    ).all()
    grown = 0
    for conflict, source, code in rows:
        platform = str(getattr(source, "value", source))
        held = await hold_free_nights(
            session,
            system_actor(conflict.agency_id, platform),
            property_id,
            conflict.start,
            conflict.end,
            platform,
            str(code or conflict.booking_id),
        )
        if held:
            conflict.held_block_ids = [*conflict.held_block_ids, *held]
            grown += 1
    return grown


async def resolve(
    session: AsyncSession,
    actor: Actor,
    conflict_id: uuid.UUID,
    action: str,
    *,
    property_id: uuid.UUID | None = None,
    check_in: date | None = None,
    check_out: date | None = None,
) -> ChannelConflict:
    actor.require(Permission.BOOKINGS_CANCEL)
    conflict = (
        await session.execute(
            select(ChannelConflict)
            .where(
                ChannelConflict.id == conflict_id,
                ChannelConflict.agency_id == actor.require_agency(),
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if conflict is None:
        raise NotFound("Channel conflict not found.")
    if conflict.resolved_at is not None:
        raise Conflict("This conflict is already resolved.", conflict_type="already_resolved")
    booking = await session.get(Booking, conflict.booking_id, with_for_update=True)
    assert booking is not None
    before = {"status": booking.status.value, "check_in": str(booking.check_in)}
    # Cancelled or moved, the nights held for it open again (a move re-checks the new ones
    # with the guard); accepted as overbooked, the guest comes, so they stay closed.
    for block_id in conflict.held_block_ids if action in ("cancel", "move") else []:
        with contextlib.suppress(NotFound):
            await blocks.delete(session, actor, uuid.UUID(block_id))
    if action == "cancel":
        await bookings.transition(session, actor, booking.id, BookingStatus.CANCELLED)
    elif action == "move":
        if check_in is None or check_out is None or check_out <= check_in:
            raise Unprocessable(
                "A move needs check_in and check_out (and may name another property_id).",
                errors=[{"field": "check_in", "in": "body", "message": "required for move"}],
            )
        target = property_id or booking.property_id
        async with inventory.guarded(session, target, check_in, check_out):
            booking.property_id, booking.check_in, booking.check_out = target, check_in, check_out
            booking.version += 1
            await session.flush()
        await bookings.transition(session, actor, booking.id, BookingStatus.CONFIRMED)
    elif action != "accept_overbooked":
        raise Unprocessable(
            "action: move, cancel or accept_overbooked.",
            errors=[{"field": "action", "in": "body", "message": "unknown action"}],
        )
    conflict.resolution = action
    conflict.resolved_at = datetime.now(UTC)
    await audit.record(
        session,
        actor,
        agency_id=conflict.agency_id,
        entity_type="channel_conflict",
        entity_id=conflict.id,
        action=f"resolved:{action}",
        before=before,
        after={"status": booking.status.value, "check_in": str(booking.check_in)},
    )
    return conflict
