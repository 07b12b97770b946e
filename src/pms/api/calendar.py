"""Availability: one property's days, or many properties' in one request."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic_core import to_json
from starlette.types import Scope

from pms.api import readcache
from pms.api.deps import DB, BookingsRead, known_caller
from pms.core import availability
from pms.core.permissions import Permission
from pms.core.tenancy import Actor
from pms.schemas.booking import Calendar, PropertyCalendar
from pms.schemas.dates import DateWindow

router = APIRouter(tags=["availability"])


@router.get(
    "/properties/{property_id}/availability",
    response_model=PropertyCalendar,
    summary="One entry per day in [start, end): free, booked, hold or blocked",
    responses={404: {"description": "No such property"}, 422: {"description": "Range > 366 days"}},
)
async def property_availability(
    request: Request,
    property_id: uuid.UUID,
    window: Annotated[DateWindow, Query()],
    session: DB,
    actor: BookingsRead,
) -> Response:
    async def build() -> bytes:
        cal = await availability.calendar(session, actor, window.start, window.end, [property_id])
        return to_json(cal["properties"][0])

    key = ("availability", _viewer(actor), property_id, request.scope["query_string"])
    body = await readcache.cached(request, actor.require_agency(), key, build)
    return Response(body, media_type="application/json")


@router.get(
    "/calendar",
    response_model=Calendar,
    summary="Availability of many properties at once (all visible ones by default)",
    responses={422: {"description": "Range over 366 days or too many properties"}},
)
async def calendar(
    request: Request,
    window: Annotated[DateWindow, Query()],
    session: DB,
    actor: BookingsRead,
    property_ids: Annotated[
        list[uuid.UUID] | None, Query(description="Repeat, or omit for all visible properties")
    ] = None,
) -> Response:
    async def build() -> bytes:
        cal = await availability.calendar(session, actor, window.start, window.end, property_ids)
        # Already JSON-ready: encoded directly rather than validated entry by entry again.
        return to_json(cal)

    key = _calendar_key(actor, request.scope["query_string"])
    body = await readcache.cached(request, actor.require_agency(), key, build)
    return Response(body, media_type="application/json")


def _viewer(actor: Actor) -> uuid.UUID | None:
    """Whose view a cached calendar is: owners see only their own properties."""
    return actor.user_id if actor.is_owner else None


async def from_cache(scope: Scope, _: re.Match[str]) -> bytes | None:
    """``GET /calendar`` answered in front of routing (``pms.api.cachefront``) when the token
    is known, may read bookings, and this exact query's answer is current; else None."""
    known = await known_caller(scope)
    if known is None:
        return None
    actor, gens = known
    if actor.agency_id is None or not actor.can(Permission.BOOKINGS_READ):
        return None  # the endpoint answers the 403
    return readcache.peek(actor.agency_id, _calendar_key(actor, scope["query_string"]), gens)


def _calendar_key(actor: Actor, query: bytes) -> tuple[str, uuid.UUID | None, bytes]:
    # The validated query string as it came: hashing it is cheaper than 200 UUIDs.
    return ("calendar", _viewer(actor), query)
