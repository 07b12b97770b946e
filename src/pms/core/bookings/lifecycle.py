"""Changing a booking: dates, guests or property (re-priced, re-checked atomically, with
``version``), and its moves through the status table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import (
    ari_store,
    audit,
    holds,
    inventory,
    outbox,
    pricing,
    properties,
)
from pms.core.booking_events import event_payload, status_changed
from pms.core.booking_status import BookingStatus, can_transition, occupies
from pms.core.bookings.party import check_capacity, party_of
from pms.core.bookings.queries import get
from pms.core.dates import Stay
from pms.core.errors import Conflict, Unprocessable
from pms.core.permissions import Permission
from pms.core.tenancy import Actor
from pms.models.booking import Booking
from pms.models.guest import Guest
from pms.schemas.booking import BookingUpdate

# The action names of POST /bookings/{id}/{action}, the status each leads to, and who may.
ACTIONS: dict[str, tuple[BookingStatus, Permission]] = {
    "confirm": (BookingStatus.CONFIRMED, Permission.BOOKINGS_OPERATE),
    "check-in": (BookingStatus.CHECKED_IN, Permission.BOOKINGS_OPERATE),
    "check-out": (BookingStatus.CHECKED_OUT, Permission.BOOKINGS_OPERATE),
    "no-show": (BookingStatus.NO_SHOW, Permission.BOOKINGS_OPERATE),
    "decline": (BookingStatus.DECLINED, Permission.BOOKINGS_CANCEL),
}


class InvalidTransition(Conflict):
    code = "invalid-transition"
    title = "Invalid status change"


class StaleVersion(Conflict):
    code = "stale-version"
    title = "Booking changed meanwhile"


async def update(
    session: AsyncSession, actor: Actor, booking_id: uuid.UUID, data: BookingUpdate
) -> tuple[Booking, Guest | None]:
    booking, guest = await get(session, actor, booking_id, lock=True)
    if booking.version != data.version:
        raise StaleVersion(
            f"The booking is at version {booking.version}, not {data.version}; reload and retry.",
            current_version=booking.version,
        )
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    for field in ("property_id", "check_in", "check_out", "adults", "children", "infants", "pets"):
        if field in changes and changes[field] is None:
            raise Unprocessable(
                f"{field} cannot be null.",
                errors=[{"field": field, "in": "body", "message": "cannot be null"}],
            )
    changes = {k: v for k, v in changes.items() if getattr(booking, k) != v}
    if not changes:
        return booking, guest
    before = audit.snapshot(booking)
    old = (booking.property_id, booking.check_in, booking.check_out)
    new_property = changes.get("property_id", booking.property_id)
    check_in = changes.get("check_in", booking.check_in)
    check_out = changes.get("check_out", booking.check_out)
    if check_out <= check_in:
        raise Unprocessable(
            "check_out must be after check_in.",
            errors=[{"field": "check_out", "in": "body", "message": "not after check_in"}],
        )
    prop = await properties.get(session, actor, new_property)
    check_capacity(
        prop, changes.get("adults", booking.adults), changes.get("children", booking.children)
    )
    if new_property != booking.property_id:
        await holds.expire_stale_holds(session, new_property)
    requote = changes.keys() & {
        "property_id",
        "check_in",
        "check_out",
        "adults",
        "children",
        "pets",
    }
    priced = (
        await pricing.booking_quote(
            session,
            prop,
            Stay(check_in, check_out),
            party_of(
                changes.get("adults", booking.adults),
                changes.get("children", booking.children),
                changes.get("pets", booking.pets),
            ),
            exclude_booking=booking.id,
        )
        if requote
        else None
    )
    async with inventory.guarded(
        session, new_property, check_in, check_out, exclude_booking=booking.id
    ):
        for key, value in changes.items():
            setattr(booking, key, value)
        if requote:
            # Changes are re-priced but not refused for restrictions (see README).
            booking.quote = priced[0].model_dump(mode="json") if priced else None
        booking.version += 1
    outbox.emit(
        session,
        agency_id=booking.agency_id,
        event_type="booking.updated",
        aggregate_type="booking",
        aggregate_id=booking.id,
        payload={**event_payload(booking), "changed": sorted(changes)},
    )
    if occupies(booking.status) and old != (booking.property_id, check_in, check_out):
        await ari_store.availability_changed(session, booking.agency_id, old[0], old[1], old[2])
        await ari_store.availability_changed(
            session, booking.agency_id, booking.property_id, check_in, check_out
        )
    await audit.record(
        session,
        actor,
        agency_id=booking.agency_id,
        entity_type="booking",
        entity_id=booking.id,
        action="updated",
        before=before,
        after=audit.snapshot(booking),
    )
    return booking, guest


class Transitioned(NamedTuple):
    """A booking after a status change, with the status it came from (what follows a change,
    such as a guest e-mail or settling a card payment, depends on both)."""

    booking: Booking
    guest: Guest | None
    previous: BookingStatus


async def transition(
    session: AsyncSession, actor: Actor, booking_id: uuid.UUID, target: BookingStatus
) -> Transitioned:
    """Move a booking through the status table under the inventory guard, with its events and
    audit row. The same status again is a no-op (``previous`` is then that status), so a
    retried action is harmless."""
    booking, guest = await get(session, actor, booking_id, lock=True)
    current = booking.status
    if current is target:
        return Transitioned(booking, guest, current)
    if not can_transition(current, target):
        raise InvalidTransition(
            f"A {current.value} booking cannot become {target.value}.",
            from_status=current.value,
            to_status=target.value,
        )
    before = audit.snapshot(booking)
    if occupies(target) and not occupies(current):
        await holds.expire_stale_holds(session, booking.property_id)
    async with inventory.guarded(
        session,
        booking.property_id,
        booking.check_in,
        booking.check_out,
        exclude_booking=booking.id,
    ):
        booking.status = target
        booking.version += 1
        if target is BookingStatus.CANCELLED:
            booking.cancelled_at = datetime.now(UTC)
        if target is not BookingStatus.HOLD:
            booking.hold_expires_at = None
    await status_changed(session, booking, current)
    await audit.record(
        session,
        actor,
        agency_id=booking.agency_id,
        entity_type="booking",
        entity_id=booking.id,
        action=f"status:{target.value}",
        before=before,
        after=audit.snapshot(booking),
    )
    return Transitioned(booking, guest, current)
