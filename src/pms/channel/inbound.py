"""Applying inbound platform reservations to Core, once and in order.

Every message carries a snapshot of the reservation; the newest revision wins and older ones
are superseded (never applied over it). A stay that collides with one already in Core is kept
as a non-occupying ``conflict`` booking naming both stays, with an alert. The platform's price
is stored as given (never re-priced). The nights the platform itself closed are recorded as
acknowledged for its listing, so the change is not echoed back to it."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pms import db
from pms.channel import alerting
from pms.channel.adapters import adapter_for
from pms.channel.adapters.base import InboundReservation
from pms.channel.metrics import INBOUND_APPLY_LATENCY
from pms.core import audit, blocks, bookings, inventory, outbox
from pms.core.booking_events import event_payload
from pms.core.booking_status import BookingStatus, can_transition
from pms.core.errors import Conflict
from pms.core.inventory import InventoryConflict
from pms.core.permissions import Role
from pms.core.tenancy import Actor
from pms.logs import get_logger
from pms.models.block import BlockKind
from pms.models.booking import Booking, BookingSource
from pms.models.channel import (
    ChannelConflict,
    ChannelConnection,
    ChannelInbox,
    ChannelMapping,
    ChannelNight,
    ChannelReservation,
    InboxStatus,
)
from pms.schemas.booking import BlockCreate, BookingCreate, BookingUpdate, GuestInline
from pms.settings import Settings

log = get_logger(__name__)
S = BookingStatus
_TERMINAL = {"declined": S.DECLINED, "expired": S.EXPIRED, "cancelled": S.CANCELLED}


def system_actor(agency_id: uuid.UUID, platform: str) -> Actor:
    return Actor(
        user_id=None, email=f"system:channel:{platform}", agency_id=agency_id, role=Role.ADMIN
    )


def platform_quote(res: InboundReservation, platform: str) -> dict[str, Any]:
    """The platform's price as given: nightly and total in minor units, never re-priced."""
    nights = (res.check_out - res.check_in).days
    return {
        "source": platform,
        "platform_price": True,
        "currency": res.currency,
        "nights": nights,
        "nightly_minor": res.nightly_price_minor,
        "total": {"amount_minor": res.total_minor, "currency": res.currency},
        # Each night's price where the platform gives one per night (Booking.com, Expedia).
        **({"nights_minor": res.night_prices_minor} if res.night_prices_minor else {}),
    }


async def apply_message(inbox_id: int, settings: Settings) -> str:
    """Apply one inbox message (idempotent): its outcome, also stored on the inbox row."""
    started = time.monotonic()
    async with db.transaction(None) as s:
        await db.system_access(s)
        row = (
            await s.execute(
                select(ChannelInbox).where(ChannelInbox.id == inbox_id).with_for_update()
            )
        ).scalar_one_or_none()
        if row is None or row.status in (InboxStatus.APPLIED, InboxStatus.SUPERSEDED):
            return row.status if row else "missing"
        adapter = adapter_for(row.platform, settings)
        message = adapter.parse_message(row.body.encode())
        res = message.reservation
        row.attempts += 1
        if res is None:
            row.status, row.applied_at = InboxStatus.APPLIED, datetime.now(UTC)
            return row.status
        mapping = (
            await s.execute(
                select(ChannelMapping).where(
                    ChannelMapping.platform == row.platform,
                    ChannelMapping.remote_listing_id == res.listing_id,
                    ChannelMapping.active,
                )
            )
        ).scalar_one_or_none()
        if mapping is None and not res.listing_id:
            # A message that names no listing (an Expedia cancellation): the reservation's.
            mapping = (
                await s.execute(
                    select(ChannelMapping)
                    .join(ChannelReservation, ChannelReservation.mapping_id == ChannelMapping.id)
                    .where(
                        ChannelReservation.platform == row.platform,
                        ChannelReservation.code == res.code,
                        ChannelMapping.active,
                    )
                )
            ).scalar_one_or_none()
        if mapping is None:
            row.status, row.last_error = InboxStatus.UNMAPPED, f"listing {res.listing_id} unmapped"
            await _alert_unmapped(s, row.platform, res)
            return row.status
        row.agency_id = mapping.agency_id
        await db.set_tenant(s, mapping.agency_id)
        outcome = await apply_snapshot(s, mapping, res, message.occurred_at)
        row.status = InboxStatus.SUPERSEDED if outcome == "superseded" else InboxStatus.APPLIED
        row.applied_at = datetime.now(UTC)
        row.last_error = None
    await INBOUND_APPLY_LATENCY.observe(
        row.platform, (datetime.now(UTC) - row.received_at).total_seconds()
    )
    log.info(
        "channel_message_applied",
        inbox_id=inbox_id,
        outcome=outcome,
        seconds=round(time.monotonic() - started, 3),
    )
    return outcome


async def record_failure(inbox_id: int, error: str) -> None:
    """A message that could not be applied is kept with its reason (and retried)."""
    async with db.transaction(None) as s:
        await db.system_access(s)
        await s.execute(
            update(ChannelInbox)
            .where(ChannelInbox.id == inbox_id, ChannelInbox.status == InboxStatus.PENDING)
            .values(status=InboxStatus.FAILED, last_error=error[:1000])
        )


async def _alert_unmapped(s: AsyncSession, platform: str, res: InboundReservation) -> None:
    owners = (
        (
            await s.execute(
                select(ChannelConnection).where(
                    ChannelConnection.platform == platform,
                    ChannelConnection.remote_listings.contains([{"id": res.listing_id}]),
                )
            )
        )
        .scalars()
        .all()
    )
    for connection in owners:
        await db.set_tenant(s, connection.agency_id)  # alerts are written in their agency
        await alerting.raise_once(
            s,
            agency_id=connection.agency_id,
            kind=alerting.UNMAPPED,
            subject=f"{platform}:{res.listing_id}",
            message=f"{platform} listing {res.listing_id} received booking {res.code} "
            "but is not mapped to a property: map it and the booking is applied.",
        )


async def apply_snapshot(
    s: AsyncSession,
    mapping: ChannelMapping,
    res: InboundReservation,
    revision: datetime | None,
) -> str:
    """Bring Core in line with one reservation snapshot. ``revision`` None: a pull (the
    platform's state now), applied unless it equals what we hold."""
    record = (
        await s.execute(
            select(ChannelReservation)
            .where(
                ChannelReservation.agency_id == mapping.agency_id,
                ChannelReservation.platform == mapping.platform,
                ChannelReservation.code == res.code,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if record is not None:
        if revision is not None and revision <= record.revision_at:
            return "superseded"
        if revision is None and record.snapshot == _jsonable(res.raw):
            return "unchanged"
    actor = system_actor(mapping.agency_id, mapping.platform)
    booking_id = record.booking_id if record else None
    outcome = await _bring_in_line(s, actor, mapping, res, booking_id)
    if isinstance(outcome, uuid.UUID):
        booking_id, outcome = outcome, "applied"
    if record is None:
        record = ChannelReservation(
            agency_id=mapping.agency_id,
            platform=mapping.platform,
            code=res.code,
            mapping_id=mapping.id,
            revision_at=revision or datetime.now(UTC),
            remote_status=res.status,
            snapshot=_jsonable(res.raw),
        )
        s.add(record)
    record.booking_id = booking_id
    record.remote_status = res.status
    record.snapshot = _jsonable(res.raw)
    record.pending_alteration_id = res.pending_alteration_id
    if revision is not None:
        record.revision_at = max(revision, record.revision_at or revision)
    await s.flush()
    return outcome


def _jsonable(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items()}


async def _bring_in_line(
    s: AsyncSession,
    actor: Actor,
    mapping: ChannelMapping,
    res: InboundReservation,
    booking_id: uuid.UUID | None,
) -> str | uuid.UUID:
    if booking_id is None:
        if res.status not in ("confirmed", "requested"):
            return "ignored"  # a request that ended before we ever saw it
        return await _create(s, actor, mapping, res)
    booking = await s.get(Booking, booking_id, with_for_update=True, populate_existing=True)
    if booking is None:
        return "ignored"
    if res.status in _TERMINAL:
        await _transition(s, actor, booking, _TERMINAL[res.status])
        return "applied"
    moved = (booking.check_in, booking.check_out) != (res.check_in, res.check_out)
    guests_changed = (booking.adults, booking.children) != (res.adults, res.children)
    if (moved or guests_changed) and booking.status is not S.CONFLICT:
        try:
            await bookings.update(
                s,
                actor,
                booking.id,
                BookingUpdate(
                    version=booking.version,
                    check_in=res.check_in,
                    check_out=res.check_out,
                    adults=res.adults,
                    children=res.children,
                ),
            )
        except InventoryConflict:
            await _record_conflict(s, actor, mapping, booking, res)
    elif moved and booking.status is S.CONFLICT:
        booking.check_in, booking.check_out = res.check_in, res.check_out
    if res.status == "confirmed" and booking.status is S.REQUESTED:
        try:
            await _transition(s, actor, booking, S.CONFIRMED)
        except InventoryConflict:
            await _record_conflict(s, actor, mapping, booking, res)
    booking.quote = platform_quote(res, mapping.platform)
    if booking.status is S.CONFIRMED:
        await acknowledge_closed(s, mapping, res.check_in, res.check_out)
    return "applied"


async def _transition(
    s: AsyncSession, actor: Actor, booking: Booking, target: BookingStatus
) -> None:
    if booking.status is target:
        return
    if not can_transition(booking.status, target):
        return  # e.g. a cancelled booking that the platform now calls expired
    await bookings.transition(s, actor, booking.id, target)


async def _create(
    s: AsyncSession, actor: Actor, mapping: ChannelMapping, res: InboundReservation
) -> uuid.UUID | str:
    status = S.CONFIRMED if res.status == "confirmed" else S.REQUESTED
    data = BookingCreate(
        property_id=mapping.property_id,
        check_in=res.check_in,
        check_out=res.check_out,
        adults=max(1, res.adults),
        children=res.children,
        guest=GuestInline(
            email=f"{res.code.lower()}@guest.{mapping.platform.replace('_', '-')}.com",
            first_name=res.first_name[:100] or None,
            last_name=res.last_name[:100] or "Guest",
        ),
        source=BookingSource(mapping.platform),
        channel_booking_id=res.code,
        status=status,
        notes=f"{mapping.platform} reservation {res.code}",
    )
    try:
        booking, _ = await bookings.create(s, actor, data)
    except InventoryConflict:
        return await _create_conflict(s, actor, mapping, res, data)
    except Conflict as exc:
        if exc.extra.get("conflict_type") == "duplicate_channel_booking":
            found = (
                await s.execute(
                    select(Booking.id).where(
                        Booking.agency_id == mapping.agency_id,
                        Booking.source == BookingSource(mapping.platform),
                        Booking.channel_booking_id == res.code,
                    )
                )
            ).scalar_one()
            return found
        raise
    booking.quote = platform_quote(res, mapping.platform)
    if status is S.CONFIRMED:
        await acknowledge_closed(s, mapping, res.check_in, res.check_out)
    return booking.id


async def _create_conflict(
    s: AsyncSession,
    actor: Actor,
    mapping: ChannelMapping,
    res: InboundReservation,
    data: BookingCreate,
) -> uuid.UUID:
    """Never lose a booking: keep it as a non-occupying conflict naming the clashing stay."""
    assert data.guest is not None
    guest = await bookings.guest_for(s, actor, None, data.guest)
    booking = Booking(
        id=uuid.uuid4(),
        agency_id=mapping.agency_id,
        property_id=mapping.property_id,
        guest_id=guest.id,
        status=S.CONFLICT,
        source=BookingSource(mapping.platform),
        channel_booking_id=res.code,
        check_in=res.check_in,
        check_out=res.check_out,
        adults=data.adults,
        children=data.children,
        notes=data.notes,
        quote=platform_quote(res, mapping.platform),
        version=1,
    )
    s.add(booking)
    await s.flush()
    await s.refresh(booking)
    outbox.emit(
        s,
        agency_id=booking.agency_id,
        event_type="booking.created",
        aggregate_type="booking",
        aggregate_id=booking.id,
        payload=event_payload(booking),
    )
    await audit.created(s, actor, "booking", booking)
    await _record_conflict(s, actor, mapping, booking, res)
    return booking.id


async def _record_conflict(
    s: AsyncSession,
    actor: Actor,
    mapping: ChannelMapping,
    booking: Booking,
    res: InboundReservation,
) -> None:
    clash = await inventory.find_clash(
        s, mapping.property_id, res.check_in, res.check_out, exclude_booking=booking.id
    )
    conflict = ChannelConflict(
        agency_id=mapping.agency_id,
        property_id=mapping.property_id,
        booking_id=booking.id,
        clashing_booking_id=clash.booking_id if clash else None,
        clashing_block_id=clash.block_id if clash else None,
        start=res.check_in,
        end=res.check_out,
    )
    conflict.held_block_ids = await hold_free_nights(
        s, actor, mapping.property_id, res.check_in, res.check_out, mapping.platform, res.code
    )
    s.add(conflict)
    await s.flush()
    other = (
        f"booking {clash.booking_id}"
        if clash and clash.booking_id
        else f"block {clash.block_id}"
        if clash
        else "a stay"
    )
    await alerting.raise_once(
        s,
        agency_id=mapping.agency_id,
        kind=alerting.CONFLICT,
        subject=str(conflict.id),
        message=f"{mapping.platform} booking {res.code} ({res.check_in} to {res.check_out}) "
        f"collides with {other}; it is kept as a conflict booking to resolve.",
        property_id=mapping.property_id,
    )


async def hold_free_nights(
    s: AsyncSession,
    actor: Actor,
    property_id: uuid.UUID,
    check_in: date,
    check_out: date,
    platform: str,
    code: str,
) -> list[str]:
    """Close the conflicting stay's nights that no other stay holds, everywhere (a block), so
    no channel sells them while a person resolves the conflict."""
    taken = {
        n
        for r in await inventory.occupied(s, [property_id], check_in, check_out)
        for n in stay_nights(max(r.start, check_in), min(r.end, check_out))
    }
    free = [n for n in stay_nights(check_in, check_out) if n not in taken]
    held: list[str] = []
    start: date | None = None
    for i, night in enumerate(free):
        start = start or night
        last = i + 1 == len(free) or free[i + 1] != night + timedelta(days=1)
        if last:
            block = await blocks.create(
                s,
                actor,
                BlockCreate(
                    property_id=property_id,
                    start=start,
                    end=night + timedelta(days=1),
                    kind=BlockKind.MANUAL,
                    note=f"Held for the conflicting {platform} booking {code}",
                ),
            )
            held.append(str(block.id))
            start = None
    return held


async def acknowledge_closed(
    s: AsyncSession, mapping: ChannelMapping, check_in: date, check_out: date
) -> None:
    """The platform closed these nights itself: record that, so closing them is not echoed."""
    await s.execute(
        update(ChannelNight)
        .where(
            ChannelNight.mapping_id == mapping.id,
            ChannelNight.night >= check_in,
            ChannelNight.night < check_out,
        )
        .values(available=False, pushed_at=func.now())
    )


def stay_nights(check_in: date, check_out: date) -> list[date]:
    return [check_in + timedelta(days=i) for i in range((check_out - check_in).days)]
