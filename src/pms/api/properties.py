"""Properties: one bookable unit each."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from pms.api.deps import DB, PropertiesRead, PropertiesWrite
from pms.api.idempotency import IdempotentRoute
from pms.api.responses import Responses
from pms.core import properties
from pms.schemas.common import Page, PageParams, page_params
from pms.schemas.property import Property, PropertyCreate, PropertyUpdate

router = APIRouter(route_class=IdempotentRoute, prefix="/properties", tags=["properties"])
_404: Responses = {404: {"description": "No such property in this agency"}}


@router.get("", response_model=Page[Property], summary="List properties (owners see their own)")
async def list_properties(
    session: DB,
    actor: PropertiesRead,
    paging: Annotated[PageParams, Depends(page_params)],
    q: Annotated[str | None, Query(max_length=200, description="Name contains")] = None,
    is_listed: bool | None = None,
    owner_user_id: uuid.UUID | None = None,
    city: Annotated[str | None, Query(max_length=100)] = None,
    sort: Annotated[
        str, Query(max_length=100, description="name, created_at, max_guests, city; - for desc")
    ] = "name",
) -> Page[Property]:
    items, total = await properties.list_(
        session,
        actor,
        q=q,
        is_listed=is_listed,
        owner_user_id=owner_user_id,
        city=city,
        sort=sort,
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page[Property].of(items, total, paging)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Property,
    summary="Create a property",
)
async def create_property(body: PropertyCreate, session: DB, actor: PropertiesWrite) -> Property:
    return Property.model_validate(await properties.create(session, actor, body))


@router.get("/{property_id}", response_model=Property, summary="Get a property", responses=_404)
async def get_property(property_id: uuid.UUID, session: DB, actor: PropertiesRead) -> Property:
    return Property.model_validate(await properties.get(session, actor, property_id))


@router.patch(
    "/{property_id}", response_model=Property, summary="Change a property", responses=_404
)
async def update_property(
    property_id: uuid.UUID, body: PropertyUpdate, session: DB, actor: PropertiesWrite
) -> Property:
    return Property.model_validate(await properties.update(session, actor, property_id, body))


@router.delete(
    "/{property_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a property (soft; refused while future bookings exist)",
    responses={**_404, 409: {"description": "Future bookings exist"}},
)
async def delete_property(property_id: uuid.UUID, session: DB, actor: PropertiesWrite) -> Response:
    await properties.delete(session, actor, property_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
