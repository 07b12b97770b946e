"""Holds: a guest's dates kept for them while they check out; refused with the next free
dates when someone else has them; released by the guest who no longer wants them."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import bookings, inventory
from pms.core.booking_status import BookingStatus
from pms.core.errors import Conflict, NotFound
from pms.core.tenancy import Actor
from pms.core.tokens import token_hash
from pms.direct import reactions
from pms.direct.payments import provider_for, release_payment
from pms.direct.payments.stripe import StripeProvider
from pms.models.agency import Agency
from pms.models.booking import Booking, BookingSource
from pms.models.payment import Payment, PaymentProviderName, PaymentStatus
from pms.schemas.booking import BookingCreate
from pms.schemas.public import HoldRequest

SEARCH_DAYS = 365


async def next_free_window(
    session: AsyncSession, property_id: uuid.UUID, after: date, nights: int
) -> tuple[date, date] | None:
    """The first stay of ``nights`` nights starting on or after ``after`` that is free."""
    end = after + timedelta(days=SEARCH_DAYS + nights)
    ranges = await inventory.occupied(session, [property_id], after, end)
    cursor = after
    for r in ranges:
        if (r.start - cursor).days >= nights:
            return cursor, cursor + timedelta(days=nights)
        cursor = max(cursor, r.end)
    if (end - cursor).days >= nights:
        return cursor, cursor + timedelta(days=nights)
    return None


async def create(
    session: AsyncSession, agency: Agency, actor: Actor, data: HoldRequest
) -> tuple[Booking, str]:
    """Returns the hold and its token (only the token's hash is stored)."""
    token = secrets.token_urlsafe(24)
    try:
        booking, _ = await bookings.create(
            session,
            actor,
            BookingCreate(
                property_id=data.property_id,
                check_in=data.check_in,
                check_out=data.check_out,
                adults=data.adults,
                children=len(data.children_ages),
                # The ages price the visitor tax exactly as the guest's quote and search did.
                children_ages=list(data.children_ages),
                pets=data.pets,
                source=BookingSource.DIRECT,
                status=BookingStatus.HOLD,
            ),
            hold_minutes=agency.hold_minutes,
        )
    except inventory.InventoryConflict as exc:
        window = await next_free_window(
            session, data.property_id, data.check_in, (data.check_out - data.check_in).days
        )
        exc.extra["next_available"] = (
            {"check_in": window[0].isoformat(), "check_out": window[1].isoformat()}
            if window
            else None
        )
        if window:
            exc.detail += f" The next free dates are {window[0]} to {window[1]}."
        raise
    booking.hold_token_hash = token_hash(token)
    await session.flush()
    await reactions.booking_created(session, booking)
    return booking, token


class HoldUsed(Conflict):
    code = "hold-used"
    title = "Hold already booked"


class HoldExpired(Conflict):
    code = "hold-expired"
    title = "Hold expired"


async def release(session: AsyncSession, actor: Actor, token: str) -> None:
    """The guest gives the dates back: the hold becomes ``cancelled`` at once (the status table
    lets a hold end as confirmed, expired or cancelled; ``expired`` is what the clock does,
    a deliberate end is a cancellation), through ``core.bookings.transition`` like any other
    status change, so the nights are freed with the same events. A card payment started for it
    and not taken is cancelled at Stripe first.

    Idempotent: a hold already released (or cancelled by staff) answers the same. A token of
    another agency, or none at all, is a 404; a hold that became a booking or a request is a
    409 ``hold-used``; one that ran out is a 409 ``hold-expired`` (its nights are free anyway).
    """
    agency_id = actor.require_agency()
    found = (
        await session.execute(
            select(Booking.id).where(
                Booking.hold_token_hash == token_hash(token), Booking.agency_id == agency_id
            )
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("No hold with this token.")
    # Payments first, then the booking: the order a payment webhook locks them in.
    payments = list(
        (
            await session.execute(
                select(Payment)
                .where(
                    Payment.booking_id == found,
                    Payment.provider == PaymentProviderName.STRIPE,
                    Payment.status.in_(
                        [PaymentStatus.PENDING, PaymentStatus.AUTHORIZED, PaymentStatus.FAILED]
                    ),
                )
                .order_by(Payment.created_at)
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    hold, _ = await bookings.get(session, actor, found, lock=True)
    if hold.replaced_by_id is not None or hold.status not in (
        BookingStatus.HOLD,
        BookingStatus.EXPIRED,
        BookingStatus.CANCELLED,
    ):
        raise HoldUsed("This hold was already booked; cancel the booking through its link instead.")
    if hold.status is BookingStatus.CANCELLED:
        return
    if hold.status is BookingStatus.EXPIRED or (
        hold.hold_expires_at is not None and hold.hold_expires_at <= datetime.now(UTC)
    ):
        raise HoldExpired("This hold has already expired; its dates are free again.")
    if payments:
        stripe = provider_for(PaymentProviderName.STRIPE)
        assert isinstance(stripe, StripeProvider)
        for payment in payments:
            released = await release_payment(
                session, stripe, payment.id, reason="requested_by_customer"
            )
            if released.status is PaymentStatus.SUCCEEDED:
                # The guest's payment went through as they released: the booking stands.
                raise HoldUsed(
                    "The payment for this hold has just gone through, so it is being booked; "
                    "cancel the booking through its link instead."
                )
    ended = await bookings.transition(session, actor, hold.id, BookingStatus.CANCELLED)
    await reactions.status_changed(session, ended.booking, ended.previous)
