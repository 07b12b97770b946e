"""The public Direct Booking Engine API: no login; the agency is chosen by its public slug."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from sqlalchemy import Row, select

from pms.api.deps import DB, AppSettings, client_ip
from pms.api.idempotency import IdempotentRoute
from pms.api.responses import Responses
from pms.channel.ical.ranges import NightRange
from pms.channel.ical.render import ExportEvent, render_feed
from pms.core import photos, pricing, quotes, ratelimit
from pms.core.dates import Stay
from pms.core.errors import NotFound, Unprocessable
from pms.core.money import Money
from pms.core.tenancy import Actor, scope_transaction
from pms.direct import checkout, hold_limits, holds, links, public, search, selfservice
from pms.models.agency import Agency
from pms.models.booking import Booking
from pms.models.guest import Guest
from pms.models.property import Property
from pms.redis_client import get_redis
from pms.schemas.dates import DateWindow, StayDates
from pms.schemas.public import (
    CalendarDayOut,
    CheckoutRequest,
    Hold,
    HoldRequest,
    PaymentInfo,
    PublicAgency,
    PublicBooking,
    PublicCalendar,
    PublicPhoto,
    PublicProperty,
    SearchHit,
    SearchResults,
)
from pms.schemas.quote import Quote, QuoteRequest
from pms.settings import Settings

router = APIRouter(route_class=IdempotentRoute, prefix="/public", tags=["public booking engine"])
Slug = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[a-z0-9-]+$")]
_404: Responses = {404: {"description": "No such agency, property or booking"}}
_429: Responses = {429: {"description": "Too many requests (see Retry-After)"}}


async def _limits(request: Request, settings: AppSettings) -> None:
    """Per-IP and per-agency limits on every public endpoint."""
    agency = request.path_params.get("agency") or "self-service"
    await ratelimit.hit_all(
        get_redis(),
        [
            (f"pub:ip:{client_ip(request)}", settings.public_requests_per_minute_per_ip, 60),
            (f"pub:agency:{agency}", settings.public_requests_per_minute_per_agency, 60),
        ],
    )


Limited = Depends(_limits)


def _public_property(
    settings: Settings,
    slug: str,
    p: Property | Row[Any],
    photos: Iterable[tuple[uuid.UUID, str | None]],
    from_price: int | None = None,
) -> PublicProperty:
    """A property as the public sees it, from its row (`Property`, or a row with the same
    names) and its photos' ids and captions in order."""
    return PublicProperty(
        from_price_minor=from_price,
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
                id=photo_id,
                url=f"{settings.public_base_url}/api/v1/public/{slug}/photos/{photo_id}",
                caption=caption,
            )
            for photo_id, caption in photos
        ],
    )


@router.get(
    "/{agency}",
    response_model=PublicAgency,
    summary="The agency behind a booking site (its name)",
    responses={**_404, **_429},
    dependencies=[Limited],
)
async def get_agency(agency: Slug, session: DB) -> PublicAgency:
    ag, _ = await public.agency_by_slug(session, agency)
    return PublicAgency(slug=ag.slug, name=ag.name)


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
    return await _public_properties(session, settings, agency, props)


async def _public_properties(
    session: DB, settings: Settings, slug: str, props: list[Property], *, from_price: bool = True
) -> list[PublicProperty]:
    ids = [p.id for p in props]
    pics = await photos.list_for(session, ids)
    prices = await search.from_prices(session, ids) if from_price else {}
    by_property: dict[uuid.UUID, list[tuple[uuid.UUID, str | None]]] = {}
    for ph in pics:
        by_property.setdefault(ph.property_id, []).append((ph.id, ph.caption))
    return [
        _public_property(settings, slug, p, by_property.get(p.id, []), prices.get(p.id))
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
    return (await _public_properties(session, settings, agency, [prop]))[0]


@router.get(
    "/{agency}/search",
    response_model=SearchResults,
    summary="Listed properties bookable for exactly this stay, with their total price",
    responses={**_404, **_429, 422: {"description": "Invalid stay or filters"}},
    dependencies=[Limited],
)
async def search_properties(
    agency: Slug,
    session: DB,
    settings: AppSettings,
    dates: Annotated[StayDates, Query()],
    adults: Annotated[int, Query(ge=1, le=50)] = 1,
    children_ages: Annotated[list[int] | None, Query()] = None,
    pets: Annotated[int, Query(ge=0, le=10)] = 0,
    location: Annotated[str | None, Query(max_length=100, description="City or name")] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lng: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_km: Annotated[float | None, Query(gt=0, le=20000)] = None,
    min_bedrooms: Annotated[int | None, Query(ge=0, le=100)] = None,
    amenities: Annotated[list[str] | None, Query(max_length=30)] = None,
    sort: search.Sort = "price",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SearchResults:
    """Priced by the same quote engine and restrictions as a booking (min/max stay, closed to
    arrival/departure, booking window, max guests) on the default rate plan; a property is
    offered only if that quote is bookable and no booking, live hold or block takes a night."""
    ages = children_ages or []
    if any(not 0 <= age <= 17 for age in ages) or len(ages) > 20:
        raise Unprocessable(
            "children's ages must be 0 to 17 (at most 20 children).",
            errors=[{"field": "children_ages", "in": "query", "message": "invalid ages"}],
        )
    ag, _ = await public.agency_by_slug(session, agency)
    filters = search.Filters(
        location=location,
        latitude=lat,
        longitude=lng,
        radius_km=radius_km,
        min_bedrooms=min_bedrooms,
        amenities=tuple(amenities or ()),
    )
    stay = Stay(dates.check_in, dates.check_out)
    guests = quotes.Guests(adults, tuple(ages), pets)
    found = await search.search(session, ag.id, stay, guests, filters, sort, limit)
    # A result shows its exact total; the "from" price (a 12-month scan) is left out here.
    shown = await search.page(session, found.hits)
    return SearchResults(
        check_in=stay.check_in,
        check_out=stay.check_out,
        nights=stay.nights,
        count=found.count,
        results=[
            SearchHit(
                property=_public_property(
                    settings, agency, p, zip(p.photo_ids or (), p.captions or (), strict=True)
                ),
                rate_plan_id=p.rate_plan_id,
                nights=stay.nights,
                total=pricing.money(h.total),
                distance_km=round(h.distance_km, 3) if h.distance_km is not None else None,
            )
            for h, p in zip(found.hits, shown, strict=True)
        ],
    )


@router.get(
    "/{agency}/properties/{property_id}/calendar",
    response_model=PublicCalendar,
    summary="Date picker: per day open, can check in/out, min stay, nightly price",
    responses={**_404, **_429, 422: {"description": "Invalid range (at most 366 days)"}},
    dependencies=[Limited],
)
async def property_calendar(
    agency: Slug,
    property_id: uuid.UUID,
    session: DB,
    window: Annotated[DateWindow, Query()],
) -> PublicCalendar:
    ag, _ = await public.agency_by_slug(session, agency)
    prop = await public.listed_property(session, ag.id, property_id)
    currency, days = await search.calendar(session, prop, window.start, window.end)
    return PublicCalendar(
        property_id=prop.id,
        currency=currency,
        start=window.start,
        end=window.end,
        days=[
            CalendarDayOut(
                date=d.day,
                available=d.available,
                can_check_in=d.can_check_in,
                can_check_out=d.can_check_out,
                min_stay=d.min_stay,
                max_stay=d.max_stay,
                price_minor=d.price_minor,
            )
            for d in days
        ],
    )


@router.post(
    "/{agency}/quotes",
    response_model=Quote,
    summary="Price a stay at a listed property (the same engine as Core's quotes)",
    responses={**_404, **_429},
    dependencies=[Limited],
)
async def public_quote(agency: Slug, body: QuoteRequest, session: DB) -> Quote:
    ag, _ = await public.agency_by_slug(session, agency)
    prop = await public.listed_property(session, ag.id, body.property_id)
    plan = await pricing.plan_for(session, prop, body.rate_plan_id)
    if plan is None:
        raise NotFound("This property has no rate plan, so it cannot be quoted.")
    guests = quotes.Guests(body.adults, tuple(body.children_ages), body.pets)
    result = await pricing.price(session, prop, plan, Stay(body.check_in, body.check_out), guests)
    return pricing.to_schema(result, prop.id, plan.id)


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
        429: {
            "description": "Too many requests, or too many live holds for this address, "
            "e-mail or property (see Retry-After)"
        },
        409: {"description": "Dates taken; `next_available` names the next free dates"},
        422: {"description": "The stay breaks a booking rule (max stay, booking window, ...)"},
    },
    dependencies=[Limited],
)
async def create_hold(
    agency: Slug, body: HoldRequest, session: DB, settings: AppSettings, request: Request
) -> Hold:
    """The stay must keep the property's booking rules (min/max stay, booking window, closed
    dates) and the agency's public maximum stay; each address, guest e-mail and property may
    have only a few live holds at once."""
    ag, actor = await public.agency_by_slug(session, agency)
    if body.website:
        raise checkout.Rejected("The request was rejected.")
    await public.listed_property(session, ag.id, body.property_id)
    holder = hold_limits.Holder.of(ag.id, client_ip(request), body.email)
    booking, token = await holds.create(
        session, ag, actor, body, holder, hold_limits.Limits.of(settings)
    )
    assert booking.hold_expires_at is not None
    return Hold(
        hold_token=token,
        expires_at=booking.hold_expires_at,
        property_id=booking.property_id,
        check_in=booking.check_in,
        check_out=booking.check_out,
    )


HoldToken = Annotated[str, Path(min_length=10, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


@router.delete(
    "/{agency}/holds/{hold_token}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Release a hold: its dates are free again at once (idempotent)",
    responses={
        **_404,
        **_429,
        409: {
            "description": "The hold was already booked (`hold-used`) or has expired "
            "(`hold-expired`)"
        },
        502: {"description": "Stripe could not cancel the hold's pending card payment"},
    },
    dependencies=[Limited],
)
async def release_hold(agency: Slug, hold_token: HoldToken, session: DB) -> Response:
    """The guest no longer wants the dates: the hold is cancelled, the nights are offered again,
    and a card payment started for it and not taken is cancelled at Stripe. Releasing again
    answers the same."""
    _, actor = await public.agency_by_slug(session, agency)
    await holds.release(session, actor, hold_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _public_booking(
    settings: Settings,
    slug: str,
    b: Booking,
    g: Guest | None,
    p: Property,
    token: str,
    *,
    payment: PaymentInfo | None = None,
    refund: Money | None = None,
) -> PublicBooking:
    if refund is None and b.refund_minor is not None and b.refund_currency is not None:
        refund = Money(b.refund_minor, b.refund_currency)  # what its cancellation gave back
    return PublicBooking(
        payment=payment,
        refund=pricing.money(refund) if refund is not None else None,
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
        manage_url=links.manage_url(settings, token),
        manage_page_url=links.page_url(settings, slug, token),
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
    done = await checkout.book(session, actor, None, body)
    token = links.issue(settings, ag.id, done.booking.id)
    payment = (
        PaymentInfo(
            payment_id=done.payment.payment_id,
            provider=done.payment.provider.value,
            status=done.payment.status.value,
            amount=pricing.money(done.amount),
            client=done.payment.client,
        )
        if done.payment is not None and done.amount is not None
        else None
    )
    return _public_booking(
        settings, agency, done.booking, done.guest, done.prop, token, payment=payment
    )


async def _by_link(
    session: DB, settings: Settings, token: str
) -> tuple[Actor, str, Booking, Guest | None, Property]:
    agency_id, booking_id = links.verify(settings, token)
    await scope_transaction(session, user_id=None, agency_id=agency_id)
    booking, guest, prop = await _booking_row(session, booking_id)
    if booking.replaced_by_id is not None:
        # A hold whose checkout became a request to book: the link shows the request.
        booking, guest, prop = await _booking_row(session, booking.replaced_by_id)
    agency = await session.get(Agency, agency_id)
    if agency is None:
        raise NotFound("No booking behind this link.")
    return Actor.guest_of(agency_id), agency.slug, booking, guest, prop


async def _booking_row(
    session: DB, booking_id: uuid.UUID
) -> tuple[Booking, Guest | None, Property]:
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
    return row[0], row[1], row[2]


@router.get(
    "/bookings/{token}",
    response_model=PublicBooking,
    summary="Guest self-service: the booking behind a signed link",
    responses={**_404, **_429},
    dependencies=[Limited],
)
async def view_booking(token: str, session: DB, settings: AppSettings) -> PublicBooking:
    _, slug, b, g, p = await _by_link(session, settings, token)
    return _public_booking(settings, slug, b, g, p, token)


@router.post(
    "/bookings/{token}/cancel",
    response_model=PublicBooking,
    summary="Guest self-service: cancel the booking",
    responses={**_404, **_429, 409: {"description": "This booking can no longer be cancelled"}},
    dependencies=[Limited],
)
async def cancel_booking(token: str, session: DB, settings: AppSettings) -> PublicBooking:
    """The refund follows the cancellation schedule stored with the booking's quote, as of the
    property's today; a card payment is refunded through Stripe at once."""
    actor, slug, b, g, p = await _by_link(session, settings, token)
    b, g, refund = await selfservice.cancel(session, actor, b)
    return _public_booking(settings, slug, b, g, p, token, refund=refund)


@router.get(
    "/bookings/{token}/calendar.ics",
    summary="Guest self-service: the stay as an iCalendar file",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, **_404},
    dependencies=[Limited],
)
async def booking_ics(token: str, session: DB, settings: AppSettings) -> Response:
    _, _, b, _, p = await _by_link(session, settings, token)
    feed = render_feed(
        [ExportEvent(NightRange(b.check_in, b.check_out), "booking", str(b.id), b.updated_at)],
        now=b.updated_at,
        domain="pms-webapp",
        name=p.name,
    )
    return Response(feed.body, media_type="text/calendar; charset=utf-8")
