"""Property photos: uploads checked by content (not by the client's word) and size."""

from __future__ import annotations

import uuid

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from pms.core import audit, properties
from pms.core.errors import NotFound, Unprocessable
from pms.core.tenancy import Actor
from pms.models.photo import PropertyPhoto

MAX_BYTES = 5 * 1024 * 1024
MAX_PER_PROPERTY = 50

_SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"WEBP", 8, "image/webp"),
]


def sniff(data: bytes) -> str | None:
    """The image type the bytes really are, whatever the upload claimed."""
    for magic, offset, kind in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            if kind == "image/webp" and not data.startswith(b"RIFF"):
                continue
            return kind
    return None


async def add(
    session: AsyncSession,
    actor: Actor,
    property_id: uuid.UUID,
    data: bytes,
    caption: str | None,
) -> PropertyPhoto:
    prop = await properties.get_for_update(session, actor, property_id)
    if len(data) > MAX_BYTES:
        raise Unprocessable(
            f"The photo is larger than {MAX_BYTES // (1024 * 1024)} MB.",
            errors=[{"field": "file", "in": "body", "message": "too large"}],
        )
    kind = sniff(data)
    if kind is None:
        raise Unprocessable(
            "Only JPEG, PNG and WebP images are accepted.",
            errors=[{"field": "file", "in": "body", "message": "not a JPEG, PNG or WebP image"}],
        )
    count, last = (
        await session.execute(
            select(func.count(), func.max(PropertyPhoto.position)).where(
                PropertyPhoto.property_id == prop.id
            )
        )
    ).one()
    if count >= MAX_PER_PROPERTY:
        raise Unprocessable(
            f"A property has at most {MAX_PER_PROPERTY} photos.",
            errors=[{"field": "file", "in": "body", "message": "too many photos"}],
        )
    photo = PropertyPhoto(
        id=uuid.uuid4(),
        agency_id=prop.agency_id,
        property_id=prop.id,
        content_type=kind,
        size_bytes=len(data),
        caption=caption,
        position=0 if last is None else int(last) + 1,  # after deletes, count may be taken
        data=data,
    )
    session.add(photo)
    await session.flush()
    await audit.record(
        session,
        actor,
        agency_id=prop.agency_id,
        entity_type="property_photo",
        entity_id=photo.id,
        action="created",
        after={"property_id": str(prop.id), "content_type": kind, "size_bytes": len(data)},
    )
    return photo


async def list_for(session: AsyncSession, property_ids: list[uuid.UUID]) -> list[PropertyPhoto]:
    rows = await session.execute(
        select(PropertyPhoto)
        .where(PropertyPhoto.property_id.in_(property_ids))
        .order_by(PropertyPhoto.property_id, PropertyPhoto.position)
    )
    return list(rows.scalars().all())


async def reorder(
    session: AsyncSession, actor: Actor, property_id: uuid.UUID, photo_ids: list[uuid.UUID]
) -> list[PropertyPhoto]:
    """Put a property's photos in the given order: every photo exactly once."""
    prop = await properties.get_for_update(session, actor, property_id)
    current = await list_for(session, [prop.id])
    if len(set(photo_ids)) != len(photo_ids) or set(photo_ids) != {p.id for p in current}:
        raise Unprocessable(
            "The order must name each of the property's photos exactly once.",
            errors=[
                {
                    "field": "photo_ids",
                    "in": "body",
                    "message": f"expected the {len(current)} photo ids of this property, once each",
                }
            ],
        )
    by_id = {p.id: p for p in current}
    before = [str(p.id) for p in current]
    for position, photo_id in enumerate(photo_ids):
        by_id[photo_id].position = position
    await session.flush()
    await audit.record(
        session,
        actor,
        agency_id=prop.agency_id,
        entity_type="property",
        entity_id=prop.id,
        action="photos_reordered",
        before={"photo_ids": before},
        after={"photo_ids": [str(i) for i in photo_ids]},
    )
    return [by_id[i] for i in photo_ids]


async def get_data(session: AsyncSession, photo_id: uuid.UUID) -> PropertyPhoto:
    photo = (
        await session.execute(
            select(PropertyPhoto)
            .where(PropertyPhoto.id == photo_id)
            .options(undefer(PropertyPhoto.data))
        )
    ).scalar_one_or_none()
    if photo is None:
        raise NotFound("Photo not found.")
    return photo


async def remove(
    session: AsyncSession, actor: Actor, property_id: uuid.UUID, photo_id: uuid.UUID
) -> None:
    prop = await properties.get_for_update(session, actor, property_id)
    result = await session.execute(
        sql_delete(PropertyPhoto)
        .where(PropertyPhoto.id == photo_id, PropertyPhoto.property_id == prop.id)
        .returning(PropertyPhoto.id)
    )
    if result.first() is None:
        raise NotFound("Photo not found.")
    await audit.record(
        session,
        actor,
        agency_id=prop.agency_id,
        entity_type="property_photo",
        entity_id=photo_id,
        action="deleted",
    )
