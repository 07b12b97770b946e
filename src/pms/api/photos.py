"""Property photos (upload, list, delete); the public API serves them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile, status
from pydantic import BaseModel, Field

from pms.api.deps import DB, PropertiesRead, PropertiesWrite
from pms.api.idempotency import IdempotentRoute
from pms.api.responses import Responses
from pms.core import photos, properties
from pms.models.photo import PropertyPhoto

router = APIRouter(
    route_class=IdempotentRoute, prefix="/properties/{property_id}/photos", tags=["properties"]
)
_404: Responses = {404: {"description": "No such property or photo"}}


class Photo(BaseModel):
    id: uuid.UUID
    content_type: str
    size_bytes: int
    caption: str | None
    position: int


class PhotoOrder(BaseModel):
    photo_ids: list[uuid.UUID] = Field(
        max_length=photos.MAX_PER_PROPERTY, description="Every photo of the property, first first"
    )


def _out(p: PropertyPhoto) -> Photo:
    return Photo(
        id=p.id,
        content_type=p.content_type,
        size_bytes=p.size_bytes,
        caption=p.caption,
        position=p.position,
    )


@router.get("", response_model=list[Photo], summary="A property's photos", responses=_404)
async def list_photos(property_id: uuid.UUID, session: DB, actor: PropertiesRead) -> list[Photo]:
    prop = await properties.get(session, actor, property_id)
    return [_out(p) for p in await photos.list_for(session, [prop.id])]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Photo,
    summary="Upload a photo (JPEG, PNG or WebP, at most 5 MB)",
    responses={**_404, 422: {"description": "Not an accepted image type, or too large"}},
)
async def upload_photo(
    property_id: uuid.UUID,
    session: DB,
    actor: PropertiesWrite,
    file: Annotated[UploadFile, File(description="The image")],
    caption: Annotated[str | None, Form(max_length=300)] = None,
) -> Photo:
    data = await file.read(photos.MAX_BYTES + 1)
    return _out(await photos.add(session, actor, property_id, data, caption))


@router.put(
    "/order",
    response_model=list[Photo],
    summary="Reorder a property's photos (the public property lists them in this order)",
    responses={**_404, 422: {"description": "The ids are not each of the property's photos once"}},
)
async def reorder_photos(
    property_id: uuid.UUID, body: PhotoOrder, session: DB, actor: PropertiesWrite
) -> list[Photo]:
    return [_out(p) for p in await photos.reorder(session, actor, property_id, body.photo_ids)]


@router.delete(
    "/{photo_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a photo",
    responses=_404,
)
async def delete_photo(
    property_id: uuid.UUID, photo_id: uuid.UUID, session: DB, actor: PropertiesWrite
) -> Response:
    await photos.remove(session, actor, property_id, photo_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
