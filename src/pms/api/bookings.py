"""Bookings and their status actions."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from pms.api.deps import (
    DB,
    AgencyMember,
    AppSettings,
    BookingsCancel,
    BookingsCreate,
    BookingsRead,
    BookingsUpdate,
)
from pms.api.idempotency import IdempotentRoute
from pms.api.responses import Responses
from pms.core import bookings, pricing
from pms.core.booking_status import BookingStatus
from pms.core.money import Money
from pms.core.tenancy import Actor
from pms.flows import bookings as flows
from pms.models.booking import Booking as BookingRow
from pms.models.booking import BookingSource
from pms.models.guest import Guest as GuestRow
from pms.schemas.booking import Booking, BookingCancel, BookingCreate, BookingUpdate, GuestSummary
from pms.schemas.common import Page, PageParams, page_params

router = APIRouter(route_class=IdempotentRoute, prefix="/bookings", tags=["bookings"])
_BOOKING_JSON = Booking.__pydantic_serializer__
_404: Responses = {404: {"description": "No such booking in this agency"}}
_409: Responses = {
    409: {"description": "Dates taken (`conflict_type`, `clash`), stale version, or illegal status"}
}

Action = Literal["confirm", "check-in", "check-out", "no-show", "decline"]


def to_schema(b: BookingRow, g: GuestRow | None, actor: Actor) -> Booking:
    hide = actor.is_owner  # owners see who stays, not how to reach them
    return Booking(
        id=b.id,
        agency_id=b.agency_id,
        reference=b.reference,
        property_id=b.property_id,
        guest=GuestSummary(
            id=g.id,
            first_name=g.first_name,
            last_name=g.last_name,
            email=None if hide else g.email,
            phone=None if hide else g.phone,
        )
        if g is not None
        else None,
        status=b.status,
        source=b.source,
        channel_booking_id=b.channel_booking_id,
        check_in=b.check_in,
        check_out=b.check_out,
        nights=(b.check_out - b.check_in).days,
        adults=b.adults,
        children=b.children,
        infants=b.infants,
        pets=b.pets,
        notes=None if hide else b.notes,
        hold_expires_at=b.hold_expires_at,
        quote=b.quote,
        refund=pricing.money(Money(b.refund_minor, b.refund_currency))
        if b.refund_minor is not None and b.refund_currency is not None
        else None,
        version=b.version,
        created_at=b.created_at,
        updated_at=b.updated_at,
    )


@router.get("", response_model=Page[Booking], summary="List bookings")
async def list_bookings(
    session: DB,
    actor: BookingsRead,
    paging: Annotated[PageParams, Depends(page_params)],
    property_id: uuid.UUID | None = None,
    status_: Annotated[
        list[BookingStatus] | None, Query(alias="status", description="Repeat for several.")
    ] = None,
    source: BookingSource | None = None,
    guest_id: uuid.UUID | None = None,
    guest: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Part of the guest's name or e-mail, or of the booking reference "
            "(case-insensitive; owners match names and references only)",
        ),
    ] = None,
    start: Annotated[date | None, Query(description="Stays overlapping [start, end)")] = None,
    end: date | None = None,
    sort: Annotated[
        str, Query(max_length=100, description="check_in, check_out, created_at, reference")
    ] = "check_in",
) -> Page[Booking]:
    rows, total = await bookings.list_(
        session,
        actor,
        property_id=property_id,
        statuses=status_ or [],
        source=source,
        guest_id=guest_id,
        guest=guest,
        start=start,
        end=end,
        sort=sort,
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page[Booking](
        items=[to_schema(b, g, actor) for b, g in rows],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Booking,
    summary="Create a booking (the dates are guarded against any overlap)",
    responses={**_409, 422: {"description": "Invalid input or max_guests exceeded"}},
)
async def create_booking(body: BookingCreate, session: DB, actor: BookingsCreate) -> Response:
    # The request's transaction ends with any error, so the guard needs no savepoint.
    b, g = await flows.create(session, actor, body, savepoint=False)
    # Serialised once here; returning the model would make FastAPI validate it a second time.
    return Response(
        _BOOKING_JSON.to_json(to_schema(b, g, actor)),
        status_code=status.HTTP_201_CREATED,
        media_type="application/json",
    )


@router.get("/{booking_id}", response_model=Booking, summary="Get a booking", responses=_404)
async def get_booking(booking_id: uuid.UUID, session: DB, actor: BookingsRead) -> Booking:
    b, g = await bookings.get(session, actor, booking_id)
    return to_schema(b, g, actor)


@router.patch(
    "/{booking_id}",
    response_model=Booking,
    summary="Change dates, guests, property or notes (re-checked atomically; send `version`)",
    responses={**_404, **_409},
)
async def update_booking(
    booking_id: uuid.UUID, body: BookingUpdate, session: DB, actor: BookingsUpdate
) -> Booking:
    b, g = await bookings.update(session, actor, booking_id, body)
    return to_schema(b, g, actor)


@router.post(
    "/{booking_id}/cancel",
    response_model=Booking,
    summary="Cancel a booking, refunding what its cancellation policy gives (or a chosen amount)",
    responses={
        **_404,
        **_409,
        403: {"description": "Your role may not cancel bookings"},
        422: {"description": "refund_minor below 0 or above the stay's total"},
        502: {"description": "Stripe refused the refund or the release; nothing changed"},
    },
)
async def cancel_booking(
    booking_id: uuid.UUID,
    session: DB,
    actor: BookingsCancel,
    body: BookingCancel | None = None,
) -> Booking:
    """The refund is the cancellation policy's as of the property's today, stored on the
    booking (`refund`) and paid back: a card payment at Stripe at once, an offline one recorded
    for the team to pay. Send `refund_minor` to give another amount. Cancelling again changes
    nothing."""
    cancelled = await flows.cancel(
        session,
        actor,
        booking_id,
        refund_minor=body.refund_minor if body else None,
        version=body.version if body else None,
    )
    done = cancelled.transitioned
    return to_schema(done.booking, done.guest, actor)


@router.post(
    "/{booking_id}/{action}",
    response_model=Booking,
    summary="Move a booking through the status table (same status: no-op)",
    responses={
        **_404,
        **_409,
        403: {"description": "Your role may not do this action"},
        502: {
            "description": "Stripe refused to capture (confirm) or release (decline, cancel) "
            "the card authorisation of a request, or the channel (Airbnb) did not take "
            "the decision on its reservation request; nothing changed"
        },
    },
)
async def booking_action(
    booking_id: uuid.UUID,
    action: Action,
    session: DB,
    actor: AgencyMember,
    settings: AppSettings,
) -> Booking:
    target, needed = bookings.ACTIONS[action]
    actor.require(needed)
    done = await flows.change_status(session, actor, settings, booking_id, target)
    return to_schema(done.booking, done.guest, actor)
