"""Guest and agency e-mails of the Direct Booking Engine, queued in the transaction of the
booking change that causes them (called by ``direct.reactions``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core.booking_status import BookingStatus
from pms.core.money import Money
from pms.core.permissions import Role
from pms.direct import links
from pms.direct.emails import BookingEmailContext, EmailTemplate, queue_booking_email
from pms.models.agency import Agency, Membership
from pms.models.booking import Booking, BookingSource
from pms.models.guest import Guest
from pms.models.property import Property
from pms.models.user import User
from pms.settings import get_settings

S = BookingStatus
T = EmailTemplate

# (from, to) → what the guest hears. A hold becoming confirmed is an instant booking.
_ON_CHANGE: dict[tuple[BookingStatus, BookingStatus], EmailTemplate] = {
    (S.HOLD, S.CONFIRMED): T.BOOKING_CONFIRMED,
    (S.REQUESTED, S.CONFIRMED): T.REQUEST_APPROVED,
    (S.REQUESTED, S.DECLINED): T.REQUEST_DECLINED,
    (S.REQUESTED, S.CANCELLED): T.BOOKING_CANCELLED,
    (S.CONFIRMED, S.CANCELLED): T.BOOKING_CANCELLED,
}
# Which of those also tell the agency about a new booking.
_NEW_FOR_AGENCY = {T.BOOKING_CONFIRMED}


def total_of(booking: Booking, currency: str) -> Money:
    quote = booking.quote or {}
    total = quote.get("total_minor")
    if total is None and isinstance(quote.get("total"), dict):
        total = quote["total"].get("amount_minor")  # the stored core quote's shape
    return Money(int(total) if isinstance(total, int) else 0, currency)


def refund_of(booking: Booking, currency: str) -> Money:
    return Money(booking.refund_minor or 0, booking.refund_currency or currency)


async def _send(session: AsyncSession, booking: Booking, template: EmailTemplate) -> None:
    guest = await session.get(Guest, booking.guest_id) if booking.guest_id else None
    prop = await session.get(Property, booking.property_id)
    agency = await session.get(Agency, booking.agency_id)
    if guest is None or guest.email is None or prop is None or agency is None:
        return  # nobody to write to (e.g. an erased guest)
    settings = get_settings()
    context = BookingEmailContext(
        booking_reference=booking.reference,
        property_name=prop.name,
        check_in=booking.check_in,
        check_out=booking.check_out,
        guest_name=" ".join(x for x in (guest.first_name, guest.last_name) if x),
        total=total_of(booking, prop.currency),
        agency_name=agency.name,
        manage_url=links.page_url(
            settings, agency.slug, links.issue(settings, agency.id, booking.id)
        ),
        refund=refund_of(booking, prop.currency) if template is T.BOOKING_CANCELLED else None,
        guests=booking.adults + booking.children,
    )
    queue_booking_email(
        session,
        agency_id=agency.id,
        to=guest.email,
        template=template,
        language=guest.language,
        context=context,
        booking_id=booking.id,
    )
    if template in _NEW_FOR_AGENCY or template is T.REQUEST_RECEIVED:
        admins = await session.execute(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.agency_id == agency.id, Membership.role == Role.ADMIN)
        )
        for (email,) in admins.all():
            queue_booking_email(
                session,
                agency_id=agency.id,
                to=email,
                template=T.NEW_BOOKING,
                language="en",
                context=context,
                booking_id=booking.id,
            )


async def on_created(session: AsyncSession, booking: Booking) -> None:
    if booking.source is BookingSource.DIRECT and booking.status is S.REQUESTED:
        await _send(session, booking, T.REQUEST_RECEIVED)


async def on_status_change(
    session: AsyncSession, booking: Booking, from_status: BookingStatus
) -> None:
    template = _ON_CHANGE.get((from_status, booking.status))
    if booking.source is BookingSource.DIRECT and template is not None:
        await _send(session, booking, template)
