"""The public Direct Booking Engine API: no login; the agency is chosen by its public slug."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status
from sqlalchemy import select

from pms.api.deps import DB, AppSettings, client_ip
from pms.api.responses import Responses
from pms.channel.ical.ranges import NightRange
from pms.channel.ical.render import ExportEvent, render_feed
from pms.core import bookings, photos, ratelimit
from pms.core.booking_status import BookingStatus
from pms.core.errors import NotFound
from pms.core.tenancy import Actor, scope_transaction
from pms.direct import checkout, holds, public, selfservice
from pms.models.booking import Booking
from pms.models.guest import Guest
from pms.models.property import Property
from pms.redis_client import get_redis
from pms.schemas.public import (
    CheckoutRequest,
    Hold,
    HoldRequest,
    PublicBooking,
    PublicPhoto,
    PublicProperty,
)
from pms.settings import Settings

router = APIRouter(prefix="/public", tags=["public booking engine"])
Slug = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[a-z0-9-]+$")]
_404: Responses = {404: {"description": "No such agency, property or booking"}}
_429: Responses = {429: {"description": "Too many requests (see Retry-After)"}}


async def _limits(request: Request, settings: AppSettings) -> None:
    """Per-IP and per-agency limits on every public endpoint."""
    redis = get_redis()
    await ratelimit.hit(
        redis, f"pub:ip:{client_ip(request)}", settings.public_requests_per_minute_per_ip, 60
    )
    agency = request.path_params.get("agency") or "self-service"
    await ratelimit.hit(
        redis, f"pub:agency:{agency}", settings.public_requests_per_minute_per_agency, 60
    )


Limited = Depends(_limits)


def _public_property(
    settings: Settings, slug: str, p: Property, pics: list[object]
) -> PublicProperty:
    return PublicProperty(
        id=p.id,
        name=p.name,
        description=p.description,
        city=p.city,
        country=p.country,
        latitude=p.latitude,
        longitude=p.longitude,
        max_guests=p.max_guests,
        bedrooms=p.bedrooms,
        bathrooms=p.bathrooms,
        amenities=list(p.amenities),
        instant_book=p.instant_book,
        currency=p.currency,
        check_in_time=p.check_in_time,
        check_out_time=p.check_out_time,
        photos=[
            PublicPhoto(
                id=ph.id,  # type: ignore[attr-defined]
                url=f"{settings.public_base_url}/api/v1/public/{slug}/photos/{ph.id}",  # type: ignore[attr-defined]
                caption=ph.caption,  # type: ignore[attr-defined]
            )
            for ph in pics
        ],
    )


@router.get(
    "/{agency}/properties",
    response_model=list[PublicProperty],
    summary="The agency's listed properties",
    responses={**_404, **_429},
    dependencies=[Limited],
)
async def list_properties(agency: Slug, session: DB, settings: AppSettings) -> list[PublicProperty]:
    ag, _ = await public.agency_by_slug(session, agency)
    props = await public.listed_properties(session, ag.id)
    pics = await photos.list_for(session, [p.id for p in props])
    return [
        _public_property(settings, agency, p, [ph for ph in pics if ph.property_id == p.id])
        for p in props
    ]


@router.get(
    "/{agency}/properties/{property_id}",
    response_model=PublicProperty,
    summary="One listed property",
    responses={**_404, **_429},
    dependencies=[Limited],
)
async def get_property(
    agency: Slug, property_id: uuid.UUID, session: DB, settings: AppSettings
) -> PublicProperty:
    ag, _ = await public.agency_by_slug(session, agency)
    prop = await public.listed_property(session, ag.id, property_id)
    return _public_property(settings, agency, prop, list(await photos.list_for(session, [prop.id])))


@router.get(
    "/{agency}/photos/{photo_id}",
    summary="A property photo",
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}, **_404},
    response_class=Response,
)
async def get_photo(agency: Slug, photo_id: uuid.UUID, session: DB) -> Response:
    ag, _ = await public.agency_by_slug(session, agency)
    photo = await photos.get_data(session, photo_id)
    await public.listed_property(session, ag.id, photo.property_id)
    return Response(
        photo.data,
        media_type=photo.content_type,
        headers={"Cache-Control": "public, max-age=86400", "ETag": f'"{photo.id}"'},
    )


@router.post(
    "/{agency}/holds",
    status_code=status.HTTP_201_CREATED,
    response_model=Hold,
    summary="Hold dates while the guest checks out (expires after the agency's hold time)",
    responses={
        **_404,
        **_429,
        409: {"description": "Dates taken; `next_available` names the next free dates"},
    },
    dependencies=[Limited],
)
async def create_hold(agency: Slug, body: HoldRequest, session: DB) -> Hold:
    ag, actor = await public.agency_by_slug(session, agency)
    if body.website:
        raise checkout.Rejected("The request was rejected.")
    await public.listed_property(session, ag.id, body.property_id)
    booking, token = await holds.create(session, ag, actor, body)
    assert booking.hold_expires_at is not None
    return Hold(
        hold_token=token,
        expires_at=booking.hold_expires_at,
        property_id=booking.property_id,
        check_in=booking.check_in,
        check_out=booking.check_out,
    )


def _public_booking(
    settings: Settings, b: Booking, g: Guest | None, p: Property, token: str
) -> PublicBooking:
    return PublicBooking(
        reference=b.reference,
        status=b.status,
        property_id=p.id,
        property_name=p.name,
        check_in=b.check_in,
        check_out=b.check_out,
        nights=(b.check_out - b.check_in).days,
        adults=b.adults,
        children=b.children,
        pets=b.pets,
        guest_name=" ".join(x for x in (g.first_name, g.last_name) if x) if g else None,
        quote=b.quote,
        manage_url=selfservice.manage_url(settings, token),
    )


@router.post(
    "/{agency}/bookings",
    status_code=status.HTTP_201_CREATED,
    response_model=PublicBooking,
    summary="Book held dates: confirmed (instant book) or requested (request to book)",
    responses={
        **_404,
        **_429,
        400: {"description": "Rejected (e.g. the honeypot was filled in)"},
        409: {"description": "The hold expired or was used"},
    },
    dependencies=[Limited],
)
async def create_booking(
    agency: Slug, body: CheckoutRequest, session: DB, settings: AppSettings
) -> PublicBooking:
    ag, actor = await public.agency_by_slug(session, agency)
    booking, guest, prop = await checkout.book(session, actor, None, body)
    token = selfservice.issue(settings, ag.id, booking.id)
    return _public_booking(settings, booking, guest, prop, token)


async def _by_link(
    session: DB, settings: Settings, token: str
) -> tuple[Actor, Booking, Guest | None, Property]:
    agency_id, booking_id = selfservice.verify(settings, token)
    await scope_transaction(session, user_id=None, agency_id=agency_id)
    actor = Actor.guest_of(agency_id)
    row = (
        await session.execute(
            select(Booking, Guest, Property)
            .outerjoin(Guest, Guest.id == Booking.guest_id)
            .join(Property, Property.id == Booking.property_id)
            .where(Booking.id == booking_id)
        )
    ).first()
    if row is None:
        raise NotFound("No booking behind this link.")
    return actor, row[0], row[1], row[2]


@router.get(
    "/bookings/{token}",
    response_model=PublicBooking,
    summary="Guest self-service: the booking behind a signed link",
    responses={**_404, **_429},
    dependencies=[Limited],
)
async def view_booking(token: str, session: DB, settings: AppSettings) -> PublicBooking:
    _, b, g, p = await _by_link(session, settings, token)
    return _public_booking(settings, b, g, p, token)


@router.post(
    "/bookings/{token}/cancel",
    response_model=PublicBooking,
    summary="Guest self-service: cancel the booking",
    responses={**_404, **_429, 409: {"description": "This booking can no longer be cancelled"}},
    dependencies=[Limited],
)
async def cancel_booking(token: str, session: DB, settings: AppSettings) -> PublicBooking:
    actor, b, g, p = await _by_link(session, settings, token)
    b, g = await bookings.transition(session, actor, b.id, BookingStatus.CANCELLED)
    return _public_booking(settings, b, g, p, token)


@router.get(
    "/bookings/{token}/calendar.ics",
    summary="Guest self-service: the stay as an iCalendar file",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, **_404},
    dependencies=[Limited],
)
async def booking_ics(token: str, session: DB, settings: AppSettings) -> Response:
    _, b, _, p = await _by_link(session, settings, token)
    feed = render_feed(
        [ExportEvent(NightRange(b.check_in, b.check_out), "booking", str(b.id), b.updated_at)],
        now=b.updated_at,
        domain="pms-webapp",
        name=p.name,
    )
    return Response(feed.body, media_type="text/calendar; charset=utf-8")
