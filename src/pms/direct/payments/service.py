"""Payments of bookings: start one through a provider, apply Stripe's verdict from a verified
webhook (once per event), refund. The booking flow decides what an outcome means for the
booking; this module only keeps the payment row true."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core.errors import Conflict, NotFound, Unprocessable
from pms.core.money import Money
from pms.direct.jobs import system_transaction
from pms.direct.payments.base import (
    MethodNotSupported,
    PaymentProvider,
    PaymentProviderError,
    PaymentRequest,
    ProviderRefund,
    RefundTarget,
)
from pms.direct.payments.offline import OfflineProvider
from pms.direct.payments.signature import InvalidWebhook, StripeEventData, verify_event
from pms.direct.payments.stripe import StripeProvider, idempotency_key
from pms.logs import get_logger
from pms.models.payment import (
    CaptureMethod,
    Payment,
    PaymentProviderName,
    PaymentStatus,
    StripeEvent,
)
from pms.settings import Settings, get_settings

log = get_logger(__name__)


def provider_for(name: PaymentProviderName, settings: Settings | None = None) -> PaymentProvider:
    if name is PaymentProviderName.OFFLINE:
        return OfflineProvider()
    return StripeProvider.from_settings(settings or get_settings())


@dataclass(frozen=True, slots=True)
class StartedPayment:
    payment_id: uuid.UUID
    provider: PaymentProviderName
    status: PaymentStatus
    client: dict[str, Any]


async def start_payment(
    session: AsyncSession, provider: PaymentProvider, request: PaymentRequest
) -> StartedPayment:
    """Create the payment with the provider and record it in the caller's (tenant) transaction.

    Asking again for the same booking and amount returns the same payment: the provider call
    uses a key derived from them, so it yields the same PaymentIntent, which maps to the same
    row. If the caller's transaction rolls back, the PaymentIntent stays unused at Stripe and
    is picked up by the next attempt."""
    if request.method not in provider.methods:
        raise MethodNotSupported(
            f"{provider.name.value} does not take {request.method.value} payments."
        )
    if request.amount.amount_minor <= 0:
        raise Unprocessable("A payment needs a positive amount.")
    parts: tuple[object, ...] = (
        "payment",
        request.booking_id,
        request.amount.amount_minor,
        request.amount.currency,
    )
    if request.capture_method is CaptureMethod.MANUAL:
        parts += ("manual",)  # another PaymentIntent than an immediate charge would be
    key = idempotency_key(*parts)
    created = await provider.create_payment(request, idempotency_key=key)
    inserted = (
        await session.execute(
            insert(Payment)
            .values(
                agency_id=request.agency_id,
                booking_id=request.booking_id,
                provider=provider.name,
                method=request.method,
                provider_ref=created.provider_ref,
                amount_minor=request.amount.amount_minor,
                currency=request.amount.currency,
                status=created.status,
                capture_method=request.capture_method.value,
                succeeded_at=datetime.now(UTC)
                if created.status is PaymentStatus.SUCCEEDED
                else None,
                authorized_at=datetime.now(UTC)
                if created.status is PaymentStatus.AUTHORIZED
                else None,
            )
            .on_conflict_do_nothing(index_elements=["provider", "provider_ref"])
            .returning(Payment.id)
        )
    ).scalar_one_or_none()
    payment_id = inserted
    if payment_id is None:
        existing = (
            await session.execute(
                select(Payment).where(
                    Payment.provider == provider.name,
                    Payment.provider_ref == created.provider_ref,
                )
            )
        ).scalar_one()
        if existing.booking_id != request.booking_id:
            raise Conflict("The provider returned a payment that belongs to another booking.")
        payment_id = existing.id
    status = (
        await session.execute(select(Payment.status).where(Payment.id == payment_id))
    ).scalar_one()
    return StartedPayment(
        payment_id=payment_id, provider=provider.name, status=status, client=created.client
    )


class OutcomeKind(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    AUTHORIZED = "authorized"  # the card is authorised; capture or release it later
    CANCELED = "canceled"  # the PaymentIntent was cancelled (an authorisation released/lapsed)
    DUPLICATE = "duplicate"  # this event was processed before: nothing changed
    IGNORED = "ignored"  # not an event we act on, an unknown payment, or no change due


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    """What a webhook did. On SUCCEEDED the booking flow confirms the booking; on FAILED it may
    keep the hold until it expires (the guest can retry) or release it; on AUTHORIZED it records
    the request to book; on CANCELED it learns that an authorisation is gone."""

    kind: OutcomeKind
    event_id: str
    payment_id: uuid.UUID | None = None
    booking_id: uuid.UUID | None = None
    agency_id: uuid.UUID | None = None
    amount: Money | None = None
    reason: str | None = None


_SUCCEEDED = "payment_intent.succeeded"
_FAILED = "payment_intent.payment_failed"
_AUTHORIZED = "payment_intent.amount_capturable_updated"
_CANCELED = "payment_intent.canceled"
_HANDLED = (_SUCCEEDED, _FAILED, _AUTHORIZED, _CANCELED)
# The outcomes that change a payment, which the booking flow's handlers then act on.
_ACTED_ON = (
    OutcomeKind.SUCCEEDED,
    OutcomeKind.FAILED,
    OutcomeKind.AUTHORIZED,
    OutcomeKind.CANCELED,
)


def _failure_message(intent: Mapping[str, Any]) -> str:
    error = intent.get("last_payment_error")
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or "payment failed")[:500]
    return "payment failed"


async def handle_stripe_event(session: AsyncSession, event: StripeEventData) -> PaymentOutcome:
    """Apply one verified Stripe event in the caller's transaction, which must be a system job
    (``pms.direct.jobs.system_transaction``): the event does not say which agency it is for until
    its payment is found.

    The event id is recorded first; a replay (same id) finds it and changes nothing, also when
    two deliveries race (the second waits on the first's unique key and then sees it)."""
    # In a tenant-scoped transaction another agency's payment would look unknown and the event
    # would be recorded as ignored, i.e. lost: refuse that misuse loudly.
    system = await session.execute(text("SELECT current_setting('app.system', true)"))
    if system.scalar_one_or_none() != "on":
        raise RuntimeError("handle_stripe_event needs a system_transaction()")
    inserted = (
        await session.execute(
            insert(StripeEvent)
            .values(id=event.id, type=event.type, outcome="processing")
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(StripeEvent.id)
        )
    ).scalar_one_or_none()
    if inserted is None:
        log.info("stripe_event_replayed", event_id=event.id, type=event.type)
        return PaymentOutcome(OutcomeKind.DUPLICATE, event.id)
    outcome = await _apply(session, event)
    await session.execute(
        update(StripeEvent)
        .where(StripeEvent.id == event.id)
        .values(outcome=outcome.kind.value, payment_id=outcome.payment_id)
    )
    log.info(
        "stripe_event",
        event_id=event.id,
        type=event.type,
        outcome=outcome.kind.value,
        payment_id=str(outcome.payment_id) if outcome.payment_id else None,
        reason=outcome.reason,
    )
    return outcome


async def _apply(session: AsyncSession, event: StripeEventData) -> PaymentOutcome:
    if event.type not in _HANDLED:
        return PaymentOutcome(OutcomeKind.IGNORED, event.id, reason=f"type {event.type}")
    intent = event.object
    intent_id = intent.get("id")
    payment = (
        await session.execute(
            select(Payment)
            .where(
                Payment.provider == PaymentProviderName.STRIPE,
                Payment.provider_ref == str(intent_id),
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if payment is None:
        return PaymentOutcome(OutcomeKind.IGNORED, event.id, reason="unknown payment intent")
    ids: dict[str, Any] = {
        "payment_id": payment.id,
        "booking_id": payment.booking_id,
        "agency_id": payment.agency_id,
        "amount": Money(payment.amount_minor, payment.currency),
    }
    currency = str(intent.get("currency", "")).upper()
    if intent.get("amount") != payment.amount_minor or currency != payment.currency:
        # Never confirm a booking on a payment of another amount than the one we asked for.
        return PaymentOutcome(OutcomeKind.IGNORED, event.id, reason="amount mismatch", **ids)
    now = datetime.now(UTC)
    if event.type == _SUCCEEDED:
        # AUTHORIZED: a capture whose own transaction did not commit (see capture_payment).
        if payment.status not in (
            PaymentStatus.PENDING,
            PaymentStatus.FAILED,
            PaymentStatus.AUTHORIZED,
        ):
            return PaymentOutcome(OutcomeKind.IGNORED, event.id, reason="already settled", **ids)
        payment.status = PaymentStatus.SUCCEEDED
        payment.succeeded_at = now
        payment.failure_reason = None
        return PaymentOutcome(OutcomeKind.SUCCEEDED, event.id, **ids)
    if event.type == _AUTHORIZED:
        if (
            intent.get("status") != "requires_capture"
            or intent.get("amount_capturable") != payment.amount_minor
        ):
            return PaymentOutcome(
                OutcomeKind.IGNORED, event.id, reason="not capturable in full", **ids
            )
        if payment.status not in (PaymentStatus.PENDING, PaymentStatus.FAILED):
            return PaymentOutcome(OutcomeKind.IGNORED, event.id, reason="already settled", **ids)
        payment.status = PaymentStatus.AUTHORIZED
        payment.authorized_at = now
        payment.failure_reason = None
        return PaymentOutcome(OutcomeKind.AUTHORIZED, event.id, **ids)
    if event.type == _CANCELED:
        if payment.status not in (
            PaymentStatus.PENDING,
            PaymentStatus.FAILED,
            PaymentStatus.AUTHORIZED,
        ):
            return PaymentOutcome(OutcomeKind.IGNORED, event.id, reason="already settled", **ids)
        reason = str(intent.get("cancellation_reason") or "canceled")[:500]
        payment.status = PaymentStatus.CANCELED
        payment.canceled_at = now
        payment.failure_reason = reason
        return PaymentOutcome(OutcomeKind.CANCELED, event.id, reason=reason, **ids)
    # A failure after a success (events arrive in any order) changes nothing.
    if payment.status not in (PaymentStatus.PENDING, PaymentStatus.FAILED):
        return PaymentOutcome(OutcomeKind.IGNORED, event.id, reason="already settled", **ids)
    reason = _failure_message(intent)
    payment.status = PaymentStatus.FAILED
    payment.failed_at = now
    payment.failure_reason = reason
    return PaymentOutcome(OutcomeKind.FAILED, event.id, reason=reason, **ids)


OutcomeHandler = Callable[[AsyncSession, PaymentOutcome], Awaitable[None]]
_outcome_handlers: list[OutcomeHandler] = []


def on_payment_outcome(handler: OutcomeHandler) -> OutcomeHandler:
    """Register what happens to the booking after a webhook (the booking flow confirms it or
    releases the hold). Handlers run in the webhook's transaction: the payment update, the event
    record and the booking change commit together or not at all."""
    _outcome_handlers.append(handler)
    return handler


async def receive_stripe_webhook(
    payload: bytes, headers: Mapping[str, str], *, settings: Settings | None = None
) -> PaymentOutcome:
    """Verify a webhook delivery and apply it (what ``POST /api/v1/webhooks/stripe`` calls).
    Needs only ``STRIPE_WEBHOOK_SECRET``, not the API key."""
    s = settings or get_settings()
    if s.stripe_webhook_secret is None:
        log.error("stripe_webhook_unconfigured")
        raise InvalidWebhook("Stripe webhooks are not configured on this server.")
    header = next((v for k, v in headers.items() if k.lower() == "stripe-signature"), None)
    event = verify_event(
        payload,
        header,
        s.stripe_webhook_secret.get_secret_value(),
        tolerance=s.stripe_webhook_tolerance_seconds,
    )
    async with system_transaction() as session:
        outcome = await handle_stripe_event(session, event)
        if outcome.kind in _ACTED_ON:
            for handler in _outcome_handlers:
                await handler(session, outcome)
    return outcome


async def refresh_stripe_payment(
    session: AsyncSession, provider: StripeProvider, payment_id: uuid.UUID
) -> PaymentOutcome:
    """Ask Stripe for the PaymentIntent's state and apply it as a webhook would: for a job that
    must not wait for a late or lost webhook (e.g. before a pending payment's hold expires).
    Works in a tenant transaction; a webhook for the same change arriving later is ignored."""
    payment = await _locked(session, payment_id)
    if payment.provider is not PaymentProviderName.STRIPE:
        raise Conflict("Only Stripe payments can be refreshed from Stripe.")
    intent = await provider.client.retrieve_payment_intent(payment.provider_ref)
    status = intent.get("status")
    if status == "succeeded":
        event_type = _SUCCEEDED
    elif status == "requires_capture":
        event_type = _AUTHORIZED
    elif status == "canceled":
        event_type = _CANCELED
    elif status == "requires_payment_method" and intent.get("last_payment_error"):
        event_type = _FAILED
    else:
        return PaymentOutcome(
            OutcomeKind.IGNORED,
            event_id=f"refresh:{payment.id}",
            payment_id=payment.id,
            booking_id=payment.booking_id,
            agency_id=payment.agency_id,
            reason=f"payment intent is {status}",
        )
    return await _apply(
        session, StripeEventData(id=f"refresh:{payment.id}", type=event_type, object=intent)
    )


async def mark_offline_payment_received(
    session: AsyncSession, payment_id: uuid.UUID
) -> PaymentOutcome:
    """Staff confirm that a bank transfer arrived or the guest paid on arrival."""
    payment = await _locked(session, payment_id)
    if payment.provider is not PaymentProviderName.OFFLINE:
        raise Conflict("Only offline payments are marked as received by hand.")
    if payment.status is not PaymentStatus.PENDING:
        raise Conflict(f"The payment is already {payment.status.value}.")
    payment.status = PaymentStatus.SUCCEEDED
    payment.succeeded_at = datetime.now(UTC)
    return PaymentOutcome(
        OutcomeKind.SUCCEEDED,
        event_id=f"offline:{payment.id}",
        payment_id=payment.id,
        booking_id=payment.booking_id,
        agency_id=payment.agency_id,
        amount=Money(payment.amount_minor, payment.currency),
    )


async def _locked(session: AsyncSession, payment_id: uuid.UUID) -> Payment:
    payment = (
        await session.execute(select(Payment).where(Payment.id == payment_id).with_for_update())
    ).scalar_one_or_none()
    if payment is None:
        raise NotFound("No such payment.")
    return payment


@dataclass(frozen=True, slots=True)
class RefundResult:
    payment_id: uuid.UUID
    refunded: Money
    total_refunded: Money
    status: PaymentStatus
    provider_ref: str | None
    settled: bool  # False: the money goes back later (offline: by hand)


async def refund_payment(
    session: AsyncSession, provider: PaymentProvider, payment_id: uuid.UUID, amount: Money
) -> RefundResult:
    """Refund part or all of a received payment (in the caller's tenant transaction).

    The provider call's key is derived from the payment and how much was refunded before, so a
    retry after a rollback asks Stripe for the same refund again and gets it back, instead of a
    second one."""
    payment = await _locked(session, payment_id)
    if payment.provider is not provider.name:
        raise Conflict("The payment was made through another provider.")
    if amount.currency != payment.currency:
        raise Unprocessable(f"The payment is in {payment.currency}, not {amount.currency}.")
    if payment.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
        raise Conflict(f"A {payment.status.value} payment cannot be refunded.")
    remaining = payment.amount_minor - payment.refunded_minor
    if amount.amount_minor <= 0 or amount.amount_minor > remaining:
        raise Unprocessable(
            f"The refund must be between 1 and {remaining} minor units of {payment.currency}."
        )
    key = idempotency_key("refund", payment.id, payment.refunded_minor, amount.amount_minor)
    target = RefundTarget(payment.id, payment.provider_ref, payment.booking_id)
    result: ProviderRefund = await provider.refund(target, amount, idempotency_key=key)
    payment.refunded_minor += amount.amount_minor
    payment.refunded_at = datetime.now(UTC)
    payment.status = (
        PaymentStatus.REFUNDED
        if payment.refunded_minor == payment.amount_minor
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    log.info("payment_refunded", payment_id=str(payment.id), amount_minor=amount.amount_minor)
    return RefundResult(
        payment_id=payment.id,
        refunded=amount,
        total_refunded=Money(payment.refunded_minor, payment.currency),
        status=payment.status,
        provider_ref=result.provider_ref,
        settled=result.status == "succeeded",
    )


class CaptureFailed(PaymentProviderError):
    """Stripe would not take an authorised payment (e.g. the authorisation lapsed): the approval
    that asked for it does not happen, and the booking stays as it was."""

    code = "capture-failed"
    title = "The card payment could not be captured"


# Stripe's answer when a PaymentIntent is not in a state the call needs (e.g. already captured).
_UNEXPECTED_STATE = "payment_intent_unexpected_state"


async def capture_payment(
    session: AsyncSession, provider: StripeProvider, payment_id: uuid.UUID
) -> Payment:
    """Capture an authorised card payment in the caller's transaction, before it commits.

    The Stripe call's key is derived from the payment alone: a retry after a rollback (the
    approval failed to commit after Stripe captured) asks for the same capture and gets the
    same answer back instead of an error. A payment already captured is returned as it is.
    When Stripe refuses, the PaymentIntent is read back: captured meanwhile counts as
    captured; anything else raises ``CaptureFailed`` (a 502 whose detail says why)."""
    payment = await _locked(session, payment_id)
    if payment.provider is not PaymentProviderName.STRIPE:
        raise Conflict("Only card payments are captured.")
    if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
        return payment
    if payment.status is not PaymentStatus.AUTHORIZED:
        raise CaptureFailed(
            f"The card payment is {payment.status.value}, not authorised, so it cannot be "
            "captured. Decline the request or ask the guest to pay another way."
        )
    key = idempotency_key("capture", payment.id)
    try:
        intent = await provider.client.capture_payment_intent(
            payment.provider_ref, idempotency_key=key
        )
    except PaymentProviderError as exc:
        if exc.extra.get("provider_code") != _UNEXPECTED_STATE:
            log.warning("payment_capture_failed", payment_id=str(payment.id))
            raise CaptureFailed(
                f"Stripe did not capture the card payment: {exc.detail}",
                provider_status=exc.extra.get("provider_status"),
                provider_code=exc.extra.get("provider_code"),
            ) from None
        intent = await provider.client.retrieve_payment_intent(payment.provider_ref)
    status = intent.get("status")
    if status != "succeeded":
        log.warning("payment_capture_refused", payment_id=str(payment.id), status=status)
        if status == "canceled":
            payment.status = PaymentStatus.CANCELED  # kept only if the caller commits anyway
            payment.canceled_at = datetime.now(UTC)
        raise CaptureFailed(
            f"Stripe reports the card payment as {status}: the authorisation was released or "
            "has lapsed, so nothing can be captured. Decline the request or ask the guest to "
            "pay another way.",
            provider_status=None,
            provider_code=_UNEXPECTED_STATE,
        )
    received = intent.get("amount_received")
    if received != payment.amount_minor:
        log.error("payment_capture_amount", payment_id=str(payment.id), received=received)
        raise CaptureFailed(f"Stripe captured {received}, not {payment.amount_minor} minor units.")
    payment.status = PaymentStatus.SUCCEEDED
    payment.succeeded_at = datetime.now(UTC)
    payment.failure_reason = None
    log.info("payment_captured", payment_id=str(payment.id), amount_minor=payment.amount_minor)
    return payment


async def release_payment(
    session: AsyncSession,
    provider: StripeProvider,
    payment_id: uuid.UUID,
    *,
    reason: str = "abandoned",
) -> Payment:
    """Cancel a card payment that has taken nothing: release an authorisation, or void a
    PaymentIntent the guest has not paid. Idempotent: a payment already cancelled, failed for
    good or never taken is returned unchanged; the Stripe call's key is derived from the
    payment, and a PaymentIntent Stripe already cancelled counts as released.

    A PaymentIntent that Stripe reports as succeeded (the guest paid as we released) is marked
    succeeded and returned: the caller refunds it or refuses to go on."""
    payment = await _locked(session, payment_id)
    if payment.provider is not PaymentProviderName.STRIPE or payment.status not in (
        PaymentStatus.PENDING,
        PaymentStatus.AUTHORIZED,
        PaymentStatus.FAILED,
    ):
        return payment
    key = idempotency_key("cancel", payment.id)
    try:
        intent = await provider.client.cancel_payment_intent(
            payment.provider_ref, idempotency_key=key, reason=reason
        )
    except PaymentProviderError as exc:
        if exc.extra.get("provider_code") != _UNEXPECTED_STATE:
            raise
        intent = await provider.client.retrieve_payment_intent(payment.provider_ref)
    now = datetime.now(UTC)
    if intent.get("status") == "succeeded":
        payment.status = PaymentStatus.SUCCEEDED
        payment.succeeded_at = now
        log.warning("payment_succeeded_while_released", payment_id=str(payment.id))
        return payment
    if intent.get("status") != "canceled":
        raise PaymentProviderError(
            f"Stripe reports the payment as {intent.get('status')} after cancelling it."
        )
    payment.status = PaymentStatus.CANCELED
    payment.canceled_at = now
    log.info("payment_released", payment_id=str(payment.id), reason=reason)
    return payment
