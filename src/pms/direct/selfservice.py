"""Guest self-service: a signed link to view, cancel and add to a calendar one booking."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import ari_store, bookings
from pms.core.booking_status import BookingStatus
from pms.core.errors import Conflict, NotFound
from pms.core.money import Money
from pms.core.tenancy import Actor
from pms.direct.payments import provider_for, refund_payment
from pms.models.booking import Booking
from pms.models.guest import Guest
from pms.models.payment import Payment, PaymentStatus
from pms.models.property import Property
from pms.settings import Settings

AUDIENCE = "pms-guest-booking"


def issue(settings: Settings, agency_id: uuid.UUID, booking_id: uuid.UUID) -> str:
    claims = {
        "aud": AUDIENCE,
        "sub": str(booking_id),
        "agency": str(agency_id),
        "iat": datetime.now(UTC),
        # Long enough to manage the stay and find it again afterwards.
        "exp": datetime.now(UTC) + timedelta(days=730),
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm="HS256")


def verify(settings: Settings, token: str) -> tuple[uuid.UUID, uuid.UUID]:
    """(agency id, booking id) of a valid link; anything else looks like a missing booking."""
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=["HS256"],
            audience=AUDIENCE,
            options={"require": ["exp", "sub", "aud"]},
        )
        return uuid.UUID(claims["agency"]), uuid.UUID(claims["sub"])
    except (jwt.PyJWTError, KeyError, ValueError):
        raise NotFound("No booking behind this link (it may have expired).") from None


def manage_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/api/v1/public/bookings/{token}"


def refund_due(quote: dict[str, Any] | None, today: date) -> int | None:
    """The refund, in minor units, that the booking's stored quote's cancellation schedule
    promises for a cancellation on `today`. None: the stay was not priced. A priced stay
    without a cancellation policy cancels for free (full refund)."""
    if not quote or not isinstance(quote.get("total"), dict):
        return None
    steps = quote.get("cancellation") or []
    if not steps:
        return int(quote["total"]["amount_minor"])
    for step in steps:
        first = date.fromisoformat(step["first_day"]) if step.get("first_day") else None
        last = date.fromisoformat(step["last_day"]) if step.get("last_day") else None
        if (first is None or first <= today) and (last is None or today <= last):
            return int(step["refund"]["amount_minor"])
    return 0


async def cancel(
    session: AsyncSession, actor: Actor, booking: Booking, prop: Property
) -> tuple[Booking, Guest | None, Money | None]:
    """The guest cancels: the refund is the policy's as of the property's today; received
    payments are refunded through their provider (Stripe: at once; offline: recorded for staff
    to pay back), up to what was paid. The refund is stored in ``booking.quote["refund_minor"]``
    before the status changes, so the cancellation e-mail names it."""
    locked, _ = await bookings.get(session, actor, booking.id, lock=True)
    if locked.status not in (BookingStatus.CONFIRMED, BookingStatus.REQUESTED):
        raise Conflict(f"A {locked.status.value} booking can no longer be cancelled.")
    today = ari_store.local_today(prop.timezone)
    due = refund_due(locked.quote, today)
    if locked.status is BookingStatus.REQUESTED:
        due = quoted_or_none(locked, prop.currency)  # nothing was owed yet: everything back
    refund = Money(due, prop.currency) if due is not None else None
    if refund is not None and refund.amount_minor > 0:
        await _refund_payments(session, locked.id, refund)
    if locked.quote is not None and refund is not None:
        locked.quote = {**locked.quote, "refund_minor": refund.amount_minor}
        await session.flush()
    cancelled, guest = await bookings.transition(session, actor, locked.id, BookingStatus.CANCELLED)
    return cancelled, guest, refund


def quoted_or_none(booking: Booking, currency: str) -> int | None:
    total = (booking.quote or {}).get("total")
    if isinstance(total, dict) and total.get("currency", currency) == currency:
        return int(total["amount_minor"])
    return None


async def _refund_payments(session: AsyncSession, booking_id: uuid.UUID, refund: Money) -> None:
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
