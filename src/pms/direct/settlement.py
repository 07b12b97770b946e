"""Settling a booking's payments when it is decided or cancelled: a card-paid request's
authorisation is captured on approval and released or refunded otherwise; a cancellation's
refund is paid back through each payment's provider (Stripe at once; offline: recorded for
staff to pay back)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core.booking_status import BookingStatus
from pms.core.money import Money
from pms.direct.payments import (
    StripeProvider,
    capture_payment,
    provider_for,
    refund_payment,
    release_payment,
)
from pms.models.booking import Booking
from pms.models.payment import (
    CaptureMethod,
    Payment,
    PaymentProviderName,
    PaymentStatus,
)


def stripe_provider() -> StripeProvider:
    provider = provider_for(PaymentProviderName.STRIPE)
    assert isinstance(provider, StripeProvider)
    return provider


async def settle_card_request(
    session: AsyncSession, booking: Booking, from_status: BookingStatus
) -> None:
    """When a request paid by card is decided, in the decision's transaction (called by
    ``direct.reactions``): approval (→ confirmed) captures the authorisation; anything
    else (declined, cancelled, expired) releases it, or refunds a payment that was captured
    without its approval committing. A Stripe refusal raises, so the decision rolls back and
    the staff get a 502 problem saying why: the request stays open, never approved unpaid."""
    if from_status is not BookingStatus.REQUESTED:
        return
    rows = await session.execute(
        select(Payment.id, Payment.status)
        .where(
            Payment.booking_id == booking.id,
            Payment.provider == PaymentProviderName.STRIPE,
            Payment.capture_method == CaptureMethod.MANUAL.value,
        )
        .order_by(Payment.created_at)
    )
    for payment_id, status in rows.all():
        if booking.status is BookingStatus.CONFIRMED:
            # Raises unless authorised (or already captured): a lapsed or released
            # authorisation must not approve the request unpaid.
            await capture_payment(session, stripe_provider(), payment_id)
        elif status in (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED):
            await release_payment(session, stripe_provider(), payment_id, reason="abandoned")
        elif status in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
            payment = await session.get(Payment, payment_id)
            assert payment is not None
            left = payment.amount_minor - payment.refunded_minor
            await refund_payment(
                session, stripe_provider(), payment_id, Money(left, payment.currency)
            )


async def refund_payments(session: AsyncSession, booking_id: uuid.UUID, refund: Money) -> None:
    rows = await session.execute(
        select(Payment)
        .where(
            Payment.booking_id == booking_id,
            Payment.status.in_([PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED]),
            Payment.currency == refund.currency,
        )
        .order_by(Payment.created_at)
    )
    left = refund.amount_minor
    for payment in rows.scalars().all():
        if left <= 0:
            break
        amount = min(left, payment.amount_minor - payment.refunded_minor)
        if amount <= 0:
            continue
        await refund_payment(
            session, provider_for(payment.provider), payment.id, Money(amount, refund.currency)
        )
        left -= amount
