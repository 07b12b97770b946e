"""Checkout: turning a hold into a booking (instant book) or a request (request to book)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import audit, bookings
from pms.core.booking_status import BookingStatus
from pms.core.errors import Conflict, DomainError
from pms.core.tenancy import Actor
from pms.core.tokens import token_hash
from pms.models.booking import Booking
from pms.models.guest import Guest
from pms.models.property import Property
from pms.schemas.booking import BookingCreate
from pms.schemas.public import CheckoutRequest


class Rejected(DomainError):
    status = 400
    code = "rejected"
    title = "Request rejected"


class HoldGone(Conflict):
    code = "hold-expired"
    title = "Hold expired"


async def _hold(session: AsyncSession, token: str) -> Booking:
    booking = (
        await session.execute(
            select(Booking).where(Booking.hold_token_hash == token_hash(token)).with_for_update()
        )
    ).scalar_one_or_none()
    if (
        booking is None
        or booking.status is not BookingStatus.HOLD
        or booking.hold_expires_at is None
        or booking.hold_expires_at <= datetime.now(UTC)
    ):
        raise HoldGone("This hold has expired or was already used; please hold the dates again.")
    return booking


async def book(
    session: AsyncSession, actor: Actor, prop_of: Property | None, data: CheckoutRequest
) -> tuple[Booking, Guest, Property]:
    if data.website:
        raise Rejected("The request was rejected.")
    hold = await _hold(session, data.hold_token)
    prop = prop_of or await session.get(Property, hold.property_id)
    assert prop is not None
    guest = await bookings.guest_for(session, actor, None, data.guest)
    hold.guest_id = guest.id
    await session.flush()
    if prop.instant_book:
        booking, _ = await bookings.transition(session, actor, hold.id, BookingStatus.CONFIRMED)
        return booking, guest, prop
    # Request to book: the status table has no hold → requested step, and a request does not
    # keep the nights, so the hold ends and the request is recorded as its own booking.
    await bookings.transition(session, actor, hold.id, BookingStatus.CANCELLED)
    request, _ = await bookings.create(
        session,
        actor,
        BookingCreate(
            property_id=hold.property_id,
            check_in=hold.check_in,
            check_out=hold.check_out,
            adults=hold.adults,
            children=hold.children,
            infants=hold.infants,
            pets=hold.pets,
            guest_id=guest.id,
            source=hold.source,
            status=BookingStatus.REQUESTED,
        ),
    )
    await audit.record(
        session,
        actor,
        agency_id=hold.agency_id,
        entity_type="booking",
        entity_id=hold.id,
        action="converted_to_request",
        after={"request_id": str(request.id)},
    )
    return request, guest, prop
