"""Checkout: turning a hold into a booking (instant book) or a request (request to book), with
an offline payment recorded at once, or a Stripe PaymentIntent: on an instant-book property it
confirms the hold when its signed webhook reports success; on a request-to-book property the
card is only authorised, the authorisation records the request, and the staff's decision
captures it (approve) or releases it (decline, or the request ends otherwise)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import alerts, audit, bookings
from pms.core.booking_status import BookingStatus
from pms.core.errors import Conflict, DomainError, Unprocessable
from pms.core.money import Money
from pms.core.tenancy import Actor
from pms.core.tokens import token_hash
from pms.db import set_tenant
from pms.direct import reactions
from pms.direct.payments import (
    OfflineProvider,
    OutcomeKind,
    PaymentOutcome,
    PaymentRequest,
    StartedPayment,
    on_payment_outcome,
    provider_for,
    refund_payment,
    release_payment,
    start_payment,
)
from pms.direct.settlement import stripe_provider
from pms.logs import get_logger
from pms.models.booking import Booking
from pms.models.guest import Guest
from pms.models.payment import (
    CaptureMethod,
    Payment,
    PaymentMethod,
    PaymentProviderName,
)
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


async def _pay(
    session: AsyncSession,
    booking: Booking,
    currency: str,
    provider_name: PaymentProviderName,
    method: str,
    capture_method: CaptureMethod = CaptureMethod.AUTOMATIC,
) -> tuple[StartedPayment | None, Money | None]:
    amount = bookings.quoted_total(booking)
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
            capture_method=capture_method,
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
        if bookings.quoted_total(hold) is None:
            raise Unprocessable(
                "This stay has no price, so it cannot be paid by card.",
                errors=[{"field": "payment_method", "in": "body", "message": "not available"}],
            )
        # The booking stays a hold, kept while the guest pays; the webhook confirms it (instant
        # book) or, once the card is authorised, records the request (request to book).
        hold.hold_expires_at = datetime.now(UTC) + timedelta(minutes=PAYMENT_HOLD_MINUTES)
        hold.version += 1
        await session.flush()
        started, amount = await _pay(
            session,
            hold,
            prop.currency,
            PaymentProviderName.STRIPE,
            PaymentMethod.CARD.value,
            CaptureMethod.AUTOMATIC if prop.instant_book else CaptureMethod.MANUAL,
        )
        return Checkout(hold, guest, prop, started, amount)
    if prop.instant_book:
        done = await bookings.transition(session, actor, hold.id, BookingStatus.CONFIRMED)
        await reactions.status_changed(session, done.booking, done.previous)
        booking = done.booking
        started, amount = await _pay(
            session, booking, prop.currency, PaymentProviderName.OFFLINE, data.offline_method
        )
        return Checkout(booking, guest, prop, started, amount)
    request = await _to_request(session, actor, hold, guest.id)
    started, amount = await _pay(
        session, request, prop.currency, PaymentProviderName.OFFLINE, data.offline_method
    )
    return Checkout(request, guest, prop, started, amount)


async def _to_request(
    session: AsyncSession, actor: Actor, hold: Booking, guest_id: uuid.UUID
) -> Booking:
    """Request to book: the status table has no hold → requested step, and a request does not
    keep the nights, so the hold ends and the request is recorded as its own booking. The hold
    points at it, so the guest's link to the hold shows the request."""
    ended = await bookings.transition(session, actor, hold.id, BookingStatus.CANCELLED)
    await reactions.status_changed(session, ended.booking, ended.previous)
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
            guest_id=guest_id,
            source=hold.source,
            status=BookingStatus.REQUESTED,
        ),
    )
    await reactions.booking_created(session, request)
    hold.replaced_by_id = request.id
    await session.flush()
    await audit.record(
        session,
        actor,
        agency_id=hold.agency_id,
        entity_type="booking",
        entity_id=hold.id,
        action="converted_to_request",
        after={"request_id": str(request.id)},
    )
    return request


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
        done = await bookings.transition(
            session, Actor.guest_of(outcome.agency_id), booking.id, BookingStatus.CONFIRMED
        )
        await reactions.status_changed(session, done.booking, done.previous)
        return
    if booking.status is BookingStatus.REQUESTED:
        # Only our capture takes an authorised payment, and it commits with the approval. A
        # capture whose approval did not commit leaves a paid request: say so, loudly. (Approving
        # it captures nothing twice; declining it refunds the payment.)
        log.error("payment_captured_for_unapproved_request", booking_id=str(booking.id))
        await alerts.raise_(
            session,
            agency_id=booking.agency_id,
            kind="payment_captured_request_open",
            property_id=booking.property_id,
            message=f"The card payment of request {booking.reference} was captured, but the "
            "request is not confirmed. Approve it (nothing is charged again) or decline it "
            "(the payment is refunded).",
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


@on_payment_outcome
async def record_authorised_request(session: AsyncSession, outcome: PaymentOutcome) -> None:
    """A verified ``payment_intent.amount_capturable_updated``: the guest's card is authorised
    for a request to book, so the request is recorded now (the hold ends, the payment moves to
    the request, the guest and the agency are told). An authorisation for a hold that has
    already ended (expired, released) is released at once; a Stripe error rolls the webhook
    back, so Stripe retries it."""
    if outcome.kind is not OutcomeKind.AUTHORIZED or outcome.booking_id is None:
        return
    assert outcome.agency_id is not None
    assert outcome.payment_id is not None
    await set_tenant(session, outcome.agency_id)
    booking = await session.get(Booking, outcome.booking_id, with_for_update=True)
    if booking is None:
        return
    if booking.status is BookingStatus.HOLD and booking.guest_id is not None:
        try:
            async with session.begin_nested():
                request = await _to_request(
                    session, Actor.guest_of(outcome.agency_id), booking, booking.guest_id
                )
        except DomainError as exc:
            # E.g. the stay no longer meets the rules: no request, so nothing may stay held.
            log.warning("authorised_request_refused", booking_id=str(booking.id), reason=exc.detail)
            await release_payment(
                session, stripe_provider(), outcome.payment_id, reason="abandoned"
            )
            return
        payment = await session.get(Payment, outcome.payment_id, with_for_update=True)
        assert payment is not None
        payment.booking_id = request.id
        await session.flush()
        return
    if booking.status in (BookingStatus.EXPIRED, BookingStatus.CANCELLED) and (
        booking.replaced_by_id is None
    ):
        log.warning("authorisation_for_a_released_hold_released", booking_id=str(booking.id))
        await release_payment(session, stripe_provider(), outcome.payment_id, reason="abandoned")
        return
    log.info("authorised_booking_not_a_hold", booking_id=str(booking.id))


@on_payment_outcome
async def warn_of_lapsed_authorisation(session: AsyncSession, outcome: PaymentOutcome) -> None:
    """A verified ``payment_intent.canceled`` for an open request: the card authorisation lapsed
    (Stripe releases uncaptured ones after about 7 days) or was cancelled outside the PMS, so
    approving would capture nothing. Staff hear of it before they try."""
    if outcome.kind is not OutcomeKind.CANCELED or outcome.booking_id is None:
        return
    assert outcome.agency_id is not None
    await set_tenant(session, outcome.agency_id)
    booking = await session.get(Booking, outcome.booking_id)
    if booking is None or booking.status is not BookingStatus.REQUESTED:
        return
    await alerts.raise_(
        session,
        agency_id=booking.agency_id,
        kind="card_authorisation_lapsed",
        property_id=booking.property_id,
        message=f"The card authorisation of request {booking.reference} is gone "
        f"({outcome.reason}); approving it cannot take the payment. Decline it, or ask the guest "
        "to book again.",
    )
