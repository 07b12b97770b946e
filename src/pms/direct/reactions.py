"""What the Direct Booking Engine does when a booking is created or changes status, in the
transaction of that change: settle its payments (capture, release or refund a card-paid
request; pay back a cancellation's refund) and e-mail the guest and the team. Every flow that
creates or moves a booking calls these explicitly, in this order."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pms.core.booking_status import BookingStatus
from pms.core.money import Money
from pms.direct import notifications, settlement
from pms.models.booking import Booking


async def booking_created(session: AsyncSession, booking: Booking) -> None:
    await notifications.on_created(session, booking)


async def status_changed(session: AsyncSession, booking: Booking, previous: BookingStatus) -> None:
    if booking.status is previous:
        return  # a repeated action: nothing happened
    if previous is BookingStatus.REQUESTED:
        # A request's card was only authorised: capture it or let it go.
        await settlement.settle_card_request(session, booking, previous)
    elif (
        booking.status is BookingStatus.CANCELLED
        and booking.refund_minor
        and booking.refund_currency is not None
    ):
        await settlement.refund_payments(
            session, booking.id, Money(booking.refund_minor, booking.refund_currency)
        )
    await notifications.on_status_change(session, booking, previous)
