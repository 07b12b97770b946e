"""Bookings and their status actions."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import ValidationError
from starlette.types import Scope

from pms.api.deps import (
    DB,
    AgencyMember,
    AppSettings,
    BookingsCreate,
    BookingsRead,
    BookingsUpdate,
    bearer_and_agency,
)
from pms.api.responses import Responses
from pms.channel import decisions
from pms.core import auth, booking_batches, bookings
from pms.core.booking_status import BookingStatus
from pms.core.permissions import Permission
from pms.core.tenancy import Actor
from pms.models.booking import Booking as BookingRow
from pms.models.booking import BookingSource
from pms.models.guest import Guest as GuestRow
from pms.schemas.booking import Booking, BookingCreate, BookingUpdate, GuestSummary
from pms.schemas.common import Page, PageParams, page_params

router = APIRouter(prefix="/bookings", tags=["bookings"])
_BOOKING_JSON = Booking.__pydantic_serializer__
_404: Responses = {404: {"description": "No such booking in this agency"}}
_409: Responses = {
    409: {"description": "Dates taken (`conflict_type`, `clash`), stale version, or illegal status"}
}

Action = Literal["confirm", "cancel", "check-in", "check-out", "no-show", "decline"]


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
    b, g = await bookings.create(session, actor, body, savepoint=False)
    # Serialised once here; returning the model would make FastAPI validate it a second time.
    return Response(
        _BOOKING_JSON.to_json(to_schema(b, g, actor)),
        status_code=status.HTTP_201_CREATED,
        media_type="application/json",
    )


async def from_front(scope: Scope, body: bytes) -> bytes | None:
    """``POST /bookings`` answered in front of routing (``pms.api.bookingfront``) for a token
    this process knows (``auth.remembered``) allowed to create bookings and a valid body: the
    booking is written with the other creates of the same actor in flight, which check once
    for all of them that the sign-in still holds (``pms.core.booking_batches``), and the
    answer is what ``create_booking`` answers. None when this cannot be decided here or the
    batch did not write it: the endpoint then handles the request (and gives any error)."""
    credentials = bearer_and_agency(scope)
    known = None if credentials is None else auth.remembered(*credentials)
    if known is None:
        return None
    actor, signed_in_under = known
    if actor.agency_id is None or not actor.can(Permission.BOOKINGS_CREATE):
        return None
    try:
        data = BookingCreate.model_validate_json(body)
    except ValidationError:
        return None
    scope.setdefault("state", {})["user_id"] = actor.user_id
    created = await booking_batches.batcher().create(actor, signed_in_under, data)
    if created is None:
        return None
    return _BOOKING_JSON.to_json(to_schema(*created, actor))


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
    if action in ("confirm", "decline"):
        # A platform request (Airbnb): the decision is carried to the platform as well.
        b, g = await decisions.decide(session, actor, settings, booking_id, target)
    else:
        b, g = await bookings.transition(session, actor, booking_id, target)
    return to_schema(b, g, actor)
