"""Cancelling a booking: the refund is the cancellation policy's as of the property's today,
stored on the booking with the cancellation; a manager may give another amount, which is
audited. Paying it back (Stripe, or a record for staff) is the payment side's step."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import ari_store, audit, properties
from pms.core.booking_status import BookingStatus, can_transition
from pms.core.bookings.lifecycle import InvalidTransition, Transitioned, transition
from pms.core.bookings.queries import get
from pms.core.errors import Unprocessable
from pms.core.money import Money
from pms.core.permissions import Permission
from pms.core.tenancy import Actor
from pms.models.booking import Booking


class Cancelled(NamedTuple):
    transitioned: Transitioned
    refund: Money | None  # None: nothing to refund is known (an unpriced stay)


def refund_due(quote: dict[str, Any] | None, today: date) -> int | None:
    """The refund, in minor units, that a stored quote's cancellation schedule promises for a
    cancellation on ``today``. None: the stay was not priced. A priced stay without a
    cancellation policy cancels for free (full refund)."""
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


def quoted_total(booking: Booking) -> Money | None:
    total = (booking.quote or {}).get("total")
    if isinstance(total, dict) and "amount_minor" in total and "currency" in total:
        return Money(int(total["amount_minor"]), str(total["currency"]))
    return None


def policy_refund(booking: Booking, today: date) -> int | None:
    """What the policy gives back for cancelling ``booking`` on ``today``; a request to book
    owed nothing yet, so all of it comes back."""
    if booking.status is BookingStatus.REQUESTED:
        total = quoted_total(booking)
        return total.amount_minor if total is not None else None
    return refund_due(booking.quote, today)


async def cancel(
    session: AsyncSession,
    actor: Actor,
    booking_id: uuid.UUID,
    *,
    refund_minor: int | None = None,
) -> Cancelled:
    """Cancel with the policy's refund, or with ``refund_minor`` chosen by someone who may
    cancel bookings (at most the stay's total); the choice is audited beside the policy's
    amount. Cancelling again is a no-op that returns the refund stored the first time."""
    booking, _ = await get(session, actor, booking_id, lock=True)
    if booking.status is BookingStatus.CANCELLED:
        again = await transition(session, actor, booking_id, BookingStatus.CANCELLED)
        return Cancelled(again, _stored(booking))
    if not can_transition(booking.status, BookingStatus.CANCELLED):
        raise InvalidTransition(
            f"A {booking.status.value} booking cannot become cancelled.",
            from_status=booking.status.value,
            to_status=BookingStatus.CANCELLED.value,
        )
    prop = await properties.get(session, actor, booking.property_id)
    policy = policy_refund(booking, ari_store.local_today(prop.timezone))
    currency = (quoted_total(booking) or Money(0, prop.currency)).currency
    amount = policy
    if refund_minor is not None:
        actor.require(Permission.BOOKINGS_CANCEL)
        total = quoted_total(booking)
        if refund_minor < 0 or (total is not None and refund_minor > total.amount_minor):
            limit = f"0 to {total.amount_minor}" if total is not None else "0 or more"
            raise Unprocessable(
                f"refund_minor must be {limit} (minor units of {currency}).",
                errors=[{"field": "refund_minor", "in": "body", "message": f"must be {limit}"}],
            )
        amount = refund_minor
    done = await transition(session, actor, booking_id, BookingStatus.CANCELLED)
    if amount is not None:
        booking.refund_minor = amount
        booking.refund_currency = currency
        await session.flush()
    if refund_minor is not None and refund_minor != policy:
        await audit.record(
            session,
            actor,
            agency_id=booking.agency_id,
            entity_type="booking",
            entity_id=booking.id,
            action="refund_overridden",
            # Before: what the policy gave; after: what was given instead.
            before={"refund_minor": policy, "refund_currency": currency},
            after={"refund_minor": refund_minor, "refund_currency": currency},
        )
    return Cancelled(done, _stored(booking))


def _stored(booking: Booking) -> Money | None:
    if booking.refund_minor is None or booking.refund_currency is None:
        return None
    return Money(booking.refund_minor, booking.refund_currency)
