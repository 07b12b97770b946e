"""Property photos (upload, list, delete); the public API serves them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile, status
from pydantic import BaseModel

from pms.api.deps import DB, PropertiesRead, PropertiesWrite
from pms.api.idempotency import IdempotentRoute
from pms.api.responses import Responses
from pms.core import photos, properties

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


@router.get("", response_model=list[Photo], summary="A property's photos", responses=_404)
async def list_photos(property_id: uuid.UUID, session: DB, actor: PropertiesRead) -> list[Photo]:
    prop = await properties.get(session, actor, property_id)
    return [
        Photo(
            id=p.id,
            content_type=p.content_type,
            size_bytes=p.size_bytes,
            caption=p.caption,
            position=p.position,
        )
        for p in await photos.list_for(session, [prop.id])
    ]


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
    p = await photos.add(session, actor, property_id, data, caption)
    return Photo(
        id=p.id,
        content_type=p.content_type,
        size_bytes=p.size_bytes,
        caption=p.caption,
        position=p.position,
    )


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
