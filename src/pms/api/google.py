"""Google Vacation Rentals, per connection: the Hotel List Feed with its fidelity warnings and
the landing page template, and the Property Data push."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from pms.api.deps import DB, AppSettings, ChannelsManage, ChannelsRead
from pms.api.idempotency import IdempotentRoute
from pms.api.responses import Responses
from pms.channel import google_listings
from pms.schemas.channel import FidelityWarning, GoogleListingFeed, GooglePropertyData

router = APIRouter(route_class=IdempotentRoute, tags=["channels"])
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
            FidelityWarning(listing_id=lid, property_id=pid, missing=missing)
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
