"""Google Vacation Rentals, per connection: the Hotel List Feed with its fidelity warnings and
the landing page template, and the Property Data push."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import RedirectResponse

from pms.api.deps import DB, AppSettings, ChannelsManage, ChannelsRead
from pms.api.idempotency import IdempotentRoute
from pms.api.public import Limited
from pms.api.responses import Responses
from pms.channel import google_listings
from pms.channel.adapters import google
from pms.core.dates import Stay
from pms.direct import public
from pms.schemas.channel import GoogleListingFeed, GooglePropertyData, ListingFieldWarning

router = APIRouter(route_class=IdempotentRoute, tags=["channels"])
# Where Google sends guests (no credentials: a public link, like the booking site's pages).
landing = APIRouter(route_class=IdempotentRoute, prefix="/public", tags=["public booking engine"])
_RESPONSES: Responses = {
    404: {"description": "No such connection in this agency"},
    422: {"description": "Not a Google connection"},
}


@router.get(
    "/channel-connections/{connection_id}/google/listing-feed",
    response_model=GoogleListingFeed,
    summary="Google: the Hotel List Feed, its fidelity warnings and the landing page template",
    responses=_RESPONSES,
)
async def listing_feed(
    connection_id: uuid.UUID, session: DB, actor: ChannelsRead, settings: AppSettings
) -> GoogleListingFeed:
    feed = await google_listings.listing_feed(session, actor, settings, connection_id)
    return GoogleListingFeed(
        feed=feed.xml.decode(),
        listings=feed.listings,
        warnings=[
            ListingFieldWarning(listing_id=lid, property_id=pid, missing=missing)
            for lid, pid, missing in feed.warnings
        ],
        landing_page_template=feed.landing_page_template,
    )


@router.post(
    "/channel-connections/{connection_id}/google/property-data",
    response_model=GooglePropertyData,
    summary="Google: push Property Data (room = listing) for every mapped listing",
    responses=_RESPONSES,
)
async def property_data(
    connection_id: uuid.UUID, session: DB, actor: ChannelsManage, settings: AppSettings
) -> GooglePropertyData:
    pushed, failed = await google_listings.push_property_data(
        session, actor, settings, connection_id
    )
    return GooglePropertyData(pushed=pushed, failed=failed)


@landing.get(
    "/{agency}/google/{listing_id}",
    status_code=302,
    response_class=RedirectResponse,
    summary="Google's landing page: redirects to the property's page on the booking site",
    responses={
        302: {"description": "To the property's page, with the stay when Google gave one"},
        404: {"description": "No such agency, or no listed property behind this Google listing"},
        422: {"description": "Invalid dates or guests"},
        429: {"description": "Too many requests (see Retry-After)"},
    },
    dependencies=[Limited],
)
async def landing_page(
    agency: Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[a-z0-9-]+$")],
    listing_id: Annotated[str, Path(min_length=1, max_length=200)],
    session: DB,
    settings: AppSettings,
    check_in: Annotated[date | None, Query()] = None,
    check_out: Annotated[date | None, Query()] = None,
    adults: Annotated[int, Query(ge=1, le=50)] = 2,
) -> RedirectResponse:
    """The URL of the Hotel Center landing page template (``landing_page_template`` of the
    listing feed): Google fills in its hotel id (our listing id), the dates and the adults."""
    ag, _ = await public.agency_by_slug(session, agency)
    property_id = await google_listings.landing_property(session, ag.id, listing_id)
    base = settings.booking_site_url
    if check_in is None or check_out is None:
        return RedirectResponse(google.property_page(base, agency, str(property_id)), 302)
    stay = Stay(check_in, check_out)
    url = google.landing_url(base, agency, str(property_id), stay.check_in, stay.check_out, adults)
    return RedirectResponse(url, 302)
