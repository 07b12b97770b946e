"""Vrbo's real-time quote and book: a quoteRequest is priced by Core's quote engine (the price
the direct booking engine gives for the same stay and rate plan); a bookingRequest creates the
booking under the inventory guard and answers CONFIRMED, or UNCONFIRMED where the property takes
requests (staff confirm or decline it); a clash answers the documented failure and books nothing.
The same request again (Vrbo's ``trackingUuid``) answers the same reservation. Guests' changes and
cancellations arrive as bookingUpdateRequests; ours reach Vrbo through the booking-update feed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.channel.adapters import vrbo
from pms.channel.inbound import system_actor
from pms.channel.vrbo_feeds import Caller
from pms.core import bookings, pricing, quotes
from pms.core.booking_status import BookingStatus, can_transition
from pms.core.dates import Stay
from pms.core.errors import Conflict, DomainError
from pms.core.inventory import InventoryConflict
from pms.models.booking import Booking, BookingSource
from pms.models.channel import ChannelMapping, ChannelReservation
from pms.models.property import Property
from pms.schemas.booking import BookingCreate, BookingUpdate, GuestInline

S = BookingStatus
_WIRE_STATUS = {
    S.CONFIRMED: "CONFIRMED",
    S.REQUESTED: "UNCONFIRMED",
    S.CANCELLED: "CANCELLED",
    S.DECLINED: "DECLINED",
    S.EXPIRED: "DECLINED",
    S.CONFLICT: "UNCONFIRMED",
}


class Refusal(Exception):
    """Answered as the documented failure (``errorList``), HTTP 200."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def _mapping(
    s: AsyncSession, caller: Caller, listing_id: str
) -> tuple[ChannelMapping, Property]:
    found = (
        await s.execute(
            select(ChannelMapping, Property)
            .join(Property, Property.id == ChannelMapping.property_id)
            .where(
                ChannelMapping.connection_id == caller.connection.id,
                ChannelMapping.remote_listing_id == listing_id,
                ChannelMapping.active,
                Property.deleted_at.is_(None),
            )
        )
    ).first()
    if found is None:
        raise Refusal("UNKNOWN_LISTING", f"listing {listing_id} is not published by us")
    return found[0], found[1]


def order_lines(quote: quotes.Quote) -> list[vrbo.OrderLine]:
    """Our quote's lines as Vrbo order items: rent (nights after discount), each fee, taxes."""
    rent = quote.accommodation.amount_minor
    lines = [vrbo.OrderLine("RENTAL", "Rent", rent, rent)]
    for line in quote.lines_of(quotes.LineKind.FEE):
        lines.append(
            vrbo.OrderLine(
                line.code,
                line.label or line.code,
                line.amount.amount_minor,
                line.amount.amount_minor,
            )
        )
    taxes = quote.sum_of(quotes.LineKind.VAT) + quote.sum_of(quotes.LineKind.VISITOR_TAX)
    if taxes.amount_minor:
        lines.append(vrbo.OrderLine("TAX", "Taxes", 0, taxes.amount_minor))
    assert sum(x.total_minor for x in lines) == quote.total.amount_minor
    return lines


async def price(
    s: AsyncSession, caller: Caller, req: vrbo.StayRequest
) -> tuple[ChannelMapping, Property, quotes.Quote]:
    mapping, prop = await _mapping(s, caller, req.listing_id)
    plan = await pricing.plan_for(s, prop, mapping.rate_plan_id)
    if plan is None:
        raise Refusal("NOT_PRICED", "this listing has no rate plan")
    guests = quotes.Guests(req.adults, tuple([0] * req.children), req.pets)
    result = await pricing.price(s, prop, plan, Stay(req.check_in, req.check_out), guests)
    if not result.bookable:
        unavailable = any(r.rule.value == "unavailable" for r in result.reasons)
        raise Refusal(
            "DATES_NOT_AVAILABLE" if unavailable else "STAY_RULES_NOT_MET",
            "; ".join(r.detail for r in result.reasons)[:500],
        )
    return mapping, prop, result


async def quote(s: AsyncSession, caller: Caller, req: vrbo.StayRequest) -> bytes:
    _, prop, result = await price(s, caller, req)
    return vrbo.quote_response(req, caller.advertiser, prop.currency, order_lines(result))


async def _existing(s: AsyncSession, agency_id: uuid.UUID, code: str) -> Booking | None:
    return (
        await s.execute(
            select(Booking).where(
                Booking.agency_id == agency_id,
                Booking.source == BookingSource.FEWO_DIREKT,
                Booking.channel_booking_id == code,
            )
        )
    ).scalar_one_or_none()


async def book(s: AsyncSession, caller: Caller, req: vrbo.StayRequest) -> bytes:
    """Create the booking, or answer the one this trackingUuid already made."""
    assert req.tracking_id is not None
    agency_id = caller.connection.agency_id
    found = await _existing(s, agency_id, req.tracking_id)
    if found is None:
        mapping, prop, result = await price(s, caller, req)
        status = S.CONFIRMED if prop.instant_book else S.REQUESTED
        actor = system_actor(agency_id, vrbo.PLATFORM)
        data = BookingCreate(
            property_id=prop.id,
            check_in=req.check_in,
            check_out=req.check_out,
            adults=req.adults,
            children=req.children,
            pets=min(req.pets, 20),
            guest=GuestInline(
                email=req.email or f"{req.tracking_id.lower()}@guest.fewo-direkt.de",
                first_name=req.first_name or None,
                last_name=req.last_name or "Guest",
            ),
            source=BookingSource.FEWO_DIREKT,
            channel_booking_id=req.tracking_id,
            status=status,
            notes=f"FeWo-direkt/Vrbo booking request {req.tracking_id}"
            + (f": {req.message}" if req.message else ""),
        )
        try:
            found, _ = await bookings.create(s, actor, data)
        except InventoryConflict:
            raise Refusal("DATES_NOT_AVAILABLE", "the dates were just taken") from None
        except Conflict as exc:
            if exc.extra.get("conflict_type") != "duplicate_channel_booking":
                raise
            found = await _existing(s, agency_id, req.tracking_id)
            assert found is not None
        else:
            s.add(
                ChannelReservation(
                    agency_id=agency_id,
                    platform=vrbo.PLATFORM,
                    code=req.tracking_id,
                    mapping_id=mapping.id,
                    booking_id=found.id,
                    remote_status="confirmed" if status is S.CONFIRMED else "requested",
                    revision_at=datetime.now(UTC),
                    snapshot={"listing_id": req.listing_id, "external_id": str(found.id)},
                )
            )
            await s.flush()
        lines = order_lines(result)
        currency = prop.currency
    else:
        prop_row = await s.get(Property, found.property_id)
        assert prop_row is not None
        currency = prop_row.currency
        total = int((found.quote or {}).get("total", {}).get("amount_minor", 0))
        lines = [vrbo.OrderLine("RENTAL", "Rent", total, total)]
    wire = _WIRE_STATUS.get(found.status)
    if wire in (None, "CANCELLED", "DECLINED"):
        raise Refusal("BOOKING_NOT_ACTIVE", f"reservation {found.id} is {found.status.value}")
    assert wire is not None
    return vrbo.booking_response(
        req,
        caller.advertiser,
        external_id=str(found.id),
        status=wire,
        currency=currency,
        lines=lines,
    )


async def update(s: AsyncSession, caller: Caller, req: vrbo.StayRequest) -> bytes:
    """A guest's change (new dates or party) or cancellation made on Vrbo."""
    try:
        booking_id = uuid.UUID(req.external_id or "")
    except ValueError:
        raise Refusal("UNKNOWN_RESERVATION", "externalId is not one of our reservations") from None
    booking = await s.get(Booking, booking_id, with_for_update=True)
    if (
        booking is None
        or booking.agency_id != caller.connection.agency_id
        or booking.source != BookingSource.FEWO_DIREKT
    ):
        raise Refusal("UNKNOWN_RESERVATION", "externalId is not one of our reservations")
    actor = system_actor(booking.agency_id, vrbo.PLATFORM)
    if req.action == "CANCEL":
        if booking.status is not S.CANCELLED and can_transition(booking.status, S.CANCELLED):
            await bookings.transition(s, actor, booking.id, S.CANCELLED)
    else:
        try:
            await bookings.update(
                s,
                actor,
                booking.id,
                BookingUpdate(
                    version=booking.version,
                    check_in=req.check_in,
                    check_out=req.check_out,
                    adults=req.adults,
                    children=req.children,
                ),
            )
        except InventoryConflict:
            raise Refusal("DATES_NOT_AVAILABLE", "the new dates are taken") from None
        except DomainError as exc:
            raise Refusal("CHANGE_REFUSED", exc.detail[:500]) from None
    await s.refresh(booking)
    return vrbo.update_response(
        req, caller.advertiser, str(booking.id), _WIRE_STATUS.get(booking.status, "CONFIRMED")
    )


async def updates(
    s: AsyncSession, caller: Caller, since: datetime | None
) -> list[vrbo.BookingUpdate]:
    """Our side of every Vrbo booking of this connection (changes, confirmations, cancellations),
    changed since ``since``: what Vrbo reads from the booking-update feed."""
    stmt = (
        select(Booking, ChannelReservation.code, ChannelMapping.remote_listing_id)
        .join(ChannelReservation, ChannelReservation.booking_id == Booking.id)
        .join(ChannelMapping, ChannelMapping.id == ChannelReservation.mapping_id)
        .where(
            ChannelMapping.connection_id == caller.connection.id,
            ChannelReservation.platform == vrbo.PLATFORM,
        )
        .order_by(Booking.updated_at, Booking.id)
    )
    if since is not None:
        stmt = stmt.where(Booking.updated_at > since)
    return [
        vrbo.BookingUpdate(
            external_id=str(b.id),
            tracking_id=code,
            listing_id=listing,
            status=_WIRE_STATUS.get(b.status, "UNCONFIRMED"),
            check_in=b.check_in,
            check_out=b.check_out,
            adults=b.adults,
            children=b.children,
            updated_at=b.updated_at,
        )
        for b, code, listing in (await s.execute(stmt.limit(1000))).all()
    ]
