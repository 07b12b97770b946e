"""The team's booking actions: Core makes the change; the Direct Booking Engine then settles the
payments and e-mails the guest, in the same transaction, so either all of it happens or none."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import bookings
from pms.core.booking_status import BookingStatus
from pms.core.tenancy import Actor
from pms.direct import reactions
from pms.models.booking import Booking
from pms.models.guest import Guest
from pms.schemas.booking import BookingCreate


async def create(
    session: AsyncSession, actor: Actor, data: BookingCreate, *, savepoint: bool = True
) -> tuple[Booking, Guest | None]:
    booking, guest = await bookings.create(session, actor, data, savepoint=savepoint)
    await reactions.booking_created(session, booking)
    return booking, guest


async def change_status(
    session: AsyncSession, actor: Actor, booking_id: uuid.UUID, target: BookingStatus
) -> bookings.Transitioned:
    """Confirm, decline, check in or out, mark a no-show. A staff confirm of a card-paid
    request captures the card here, and a decline releases it."""
    done = await bookings.transition(session, actor, booking_id, target)
    await reactions.status_changed(session, done.booking, done.previous)
    return done


async def cancel(
    session: AsyncSession,
    actor: Actor,
    booking_id: uuid.UUID,
    *,
    refund_minor: int | None = None,
) -> bookings.Cancelled:
    """Cancel with the policy's refund (or a manager's amount), then pay it back: at Stripe for
    a card payment, as a record for staff for an offline one."""
    cancelled = await bookings.cancel(session, actor, booking_id, refund_minor=refund_minor)
    done = cancelled.transitioned
    await reactions.status_changed(session, done.booking, done.previous)
    return cancelled
