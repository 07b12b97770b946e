"""Guest self-service through the signed link (``direct.links``): view, cancel, and add one
booking to a calendar."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import bookings
from pms.core.booking_status import BookingStatus
from pms.core.errors import Conflict
from pms.core.money import Money
from pms.core.tenancy import Actor
from pms.direct import reactions
from pms.models.booking import Booking
from pms.models.guest import Guest


async def cancel(
    session: AsyncSession, actor: Actor, booking: Booking
) -> tuple[Booking, Guest | None, Money | None]:
    """The guest cancels a confirmed booking or an open request: with the refund the policy
    gives as of the property's today (``core.bookings.cancel``), paid back through each
    payment's provider, and the cancellation e-mail naming it (``direct.reactions``)."""
    locked, _ = await bookings.get(session, actor, booking.id, lock=True)
    if locked.status not in (BookingStatus.CONFIRMED, BookingStatus.REQUESTED):
        raise Conflict(f"A {locked.status.value} booking can no longer be cancelled.")
    done, refund = await bookings.cancel(session, actor, locked.id)
    await reactions.status_changed(session, done.booking, done.previous)
    return done.booking, done.guest, refund
