"""Availability: one property's days, many properties' days in one request, or their stays,
holds and blocks as ranges."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic_core import to_json

from pms.api.deps import DB, BookingsRead
from pms.api.idempotency import IdempotentRoute
from pms.core import availability
from pms.schemas.booking import Calendar, CalendarRanges, PropertyCalendar
from pms.schemas.dates import DateWindow

router = APIRouter(route_class=IdempotentRoute, tags=["availability"])


@router.get(
    "/properties/{property_id}/availability",
    response_model=PropertyCalendar,
    summary="One entry per day in [start, end): free, booked, hold or blocked",
    responses={404: {"description": "No such property"}, 422: {"description": "Range > 366 days"}},
)
async def property_availability(
    property_id: uuid.UUID,
    window: Annotated[DateWindow, Query()],
    session: DB,
    actor: BookingsRead,
) -> Response:
    cal = await availability.calendar(session, actor, window.start, window.end, [property_id])
    return Response(to_json(cal["properties"][0]), media_type="application/json")


@router.get(
    "/calendar",
    response_model=Calendar,
    summary="Availability of many properties at once (all visible ones by default)",
    responses={422: {"description": "Range over 366 days or too many properties"}},
)
async def calendar(
    window: Annotated[DateWindow, Query()],
    session: DB,
    actor: BookingsRead,
    property_ids: Annotated[
        list[uuid.UUID] | None, Query(description="Repeat, or omit for all visible properties")
    ] = None,
) -> Response:
    cal = await availability.calendar(session, actor, window.start, window.end, property_ids)
    # Already JSON-ready: encoded directly rather than validated entry by entry again.
    return Response(to_json(cal), media_type="application/json")


@router.get(
    "/calendar/ranges",
    response_model=CalendarRanges,
    summary="Stays, holds and blocks overlapping [start, end) as ranges, per property",
    responses={
        404: {"description": "A named property does not exist or is not visible"},
        422: {"description": "Range over 366 days or too many properties"},
    },
)
async def calendar_ranges(
    window: Annotated[DateWindow, Query()],
    session: DB,
    actor: BookingsRead,
    property_ids: Annotated[
        list[uuid.UUID] | None, Query(description="Repeat, or omit for all visible properties")
    ] = None,
) -> Response:
    """What a calendar draws its bars from: per property (by name), each range with its own
    dates, kind (booked, hold, blocked), label, booking reference, status, source and guest
    name (not for owners), or block kind. Owners see only their own properties."""
    body = await availability.ranges(session, actor, window.start, window.end, property_ids)
    return Response(body, media_type="application/json")
