"""Checkout: turning a hold into a booking (instant book) or a request (request to book), with
an offline payment recorded at once, or a Stripe PaymentIntent that confirms the hold when its
signed webhook reports success."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import audit, bookings
from pms.core.booking_status import BookingStatus
from pms.core.errors import Conflict, DomainError, Unprocessable
from pms.core.money import Money
from pms.core.tenancy import Actor
from pms.core.tokens import token_hash
from pms.db import set_tenant
from pms.direct.payments import (
    OfflineProvider,
    OutcomeKind,
    PaymentOutcome,
    PaymentRequest,
    StartedPayment,
    on_payment_outcome,
    provider_for,
    refund_payment,
    start_payment,
)
from pms.logs import get_logger
from pms.models.booking import Booking
from pms.models.guest import Guest
from pms.models.payment import PaymentMethod, PaymentProviderName
from pms.models.property import Property
from pms.schemas.booking import BookingCreate
from pms.schemas.public import CheckoutRequest

log = get_logger(__name__)

# While a card payment is pending the hold is kept this long from checkout.
PAYMENT_HOLD_MINUTES = 30


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


@dataclass(frozen=True, slots=True)
class Checkout:
    booking: Booking
    guest: Guest
    prop: Property
    payment: StartedPayment | None
    amount: Money | None


def quoted_total(booking: Booking, currency: str) -> Money | None:
    """The total of the quote stored on the booking (None: the stay was not priced)."""
    total = (booking.quote or {}).get("total")
    if isinstance(total, dict) and isinstance(total.get("amount_minor"), int):
        return Money(total["amount_minor"], str(total.get("currency") or currency))
    return None


async def _pay(
    session: AsyncSession,
    booking: Booking,
    currency: str,
    provider_name: PaymentProviderName,
    method: str,
) -> tuple[StartedPayment | None, Money | None]:
    amount = quoted_total(booking, currency)
    if amount is None or amount.amount_minor <= 0:
        return None, amount
    provider = OfflineProvider() if provider_name is PaymentProviderName.OFFLINE else None
    started = await start_payment(
        session,
        provider or provider_for(provider_name),
        PaymentRequest(
            agency_id=booking.agency_id,
            booking_id=booking.id,
            booking_reference=booking.reference,
            amount=amount,
            method=PaymentMethod(method),
            description=f"Booking {booking.reference}",
        ),
    )
    return started, amount


async def book(
    session: AsyncSession, actor: Actor, prop_of: Property | None, data: CheckoutRequest
) -> Checkout:
    if data.website:
        raise Rejected("The request was rejected.")
    hold = await _hold(session, data.hold_token)
    prop = prop_of or await session.get(Property, hold.property_id)
    assert prop is not None
    guest = await bookings.guest_for(session, actor, None, data.guest)
    hold.guest_id = guest.id
    await session.flush()
    if data.payment_method == "stripe":
        if not prop.instant_book:
            raise Unprocessable(
                "This property takes requests; card payment happens once the request is approved.",
                errors=[{"field": "payment_method", "in": "body", "message": "not available"}],
            )
        if quoted_total(hold, prop.currency) is None:
            raise Unprocessable(
                "This stay has no price, so it cannot be paid by card.",
                errors=[{"field": "payment_method", "in": "body", "message": "not available"}],
            )
        # The booking stays a hold, kept while the guest pays; the webhook confirms it.
        hold.hold_expires_at = datetime.now(UTC) + timedelta(minutes=PAYMENT_HOLD_MINUTES)
        hold.version += 1
        await session.flush()
        started, amount = await _pay(
            session, hold, prop.currency, PaymentProviderName.STRIPE, PaymentMethod.CARD.value
        )
        return Checkout(hold, guest, prop, started, amount)
    if prop.instant_book:
        booking, _ = await bookings.transition(session, actor, hold.id, BookingStatus.CONFIRMED)
        started, amount = await _pay(
            session, booking, prop.currency, PaymentProviderName.OFFLINE, data.offline_method
        )
        return Checkout(booking, guest, prop, started, amount)
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
    started, amount = await _pay(
        session, request, prop.currency, PaymentProviderName.OFFLINE, data.offline_method
    )
    return Checkout(request, guest, prop, started, amount)


@on_payment_outcome
async def confirm_paid_hold(session: AsyncSession, outcome: PaymentOutcome) -> None:
    """A verified webhook: a succeeded payment confirms its hold; a failed one leaves the hold
    to expire (the guest may retry the payment until then).

    A hold past its expiry that no one has expired yet still occupies its nights (nobody else
    could have taken them), so it is confirmed. A payment that arrives for a hold already
    expired or cancelled is refunded in full at once: the dates may be someone else's."""
    if outcome.kind is not OutcomeKind.SUCCEEDED or outcome.booking_id is None:
        return
    assert outcome.agency_id is not None
    await set_tenant(session, outcome.agency_id)
    booking = await session.get(Booking, outcome.booking_id, with_for_update=True)
    if booking is None:
        return
    if booking.status is BookingStatus.HOLD:
        await bookings.transition(
            session, Actor.guest_of(outcome.agency_id), booking.id, BookingStatus.CONFIRMED
        )
        return
    if booking.status in (BookingStatus.EXPIRED, BookingStatus.CANCELLED) and (
        outcome.payment_id is not None and outcome.amount is not None
    ):
        log.warning("payment_for_a_released_hold_refunded", booking_id=str(booking.id))
        await refund_payment(
            session,
            provider_for(PaymentProviderName.STRIPE),
            outcome.payment_id,
            outcome.amount,
        )
        return
    log.info("paid_booking_not_a_hold", booking_id=str(booking.id), status=booking.status.value)
