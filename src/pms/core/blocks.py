"""Blocks: dates closed without a booking. Owners manage owner blocks on their own properties."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import ari_store, audit, holds, inventory, listing, outbox, properties
from pms.core.errors import Forbidden, NotFound
from pms.core.permissions import Permission
from pms.core.tenancy import Actor
from pms.models.block import Block, BlockKind
from pms.models.property import Property
from pms.schemas.booking import BlockCreate


def _may_write(actor: Actor, kind: BlockKind) -> None:
    """Blocks of every kind need blocks.write; owners may handle only their owner blocks (on
    their own properties, which ``properties.visible`` already ensures)."""
    if actor.can(Permission.BLOCKS_WRITE):
        return
    actor.require(Permission.OWNER_BLOCKS_WRITE)
    if kind is not BlockKind.OWNER:
        raise Forbidden("Your role may only manage owner blocks.")


async def list_(
    session: AsyncSession,
    actor: Actor,
    *,
    property_id: uuid.UUID | None,
    start: date | None,
    end: date | None,
    limit: int,
    offset: int,
) -> tuple[list[Block], int]:
    stmt = select(Block).where(
        Block.agency_id == actor.require_agency(),
        Block.property_id.in_(properties.visible(actor).with_only_columns(Property.id)),
    )
    if property_id is not None:
        stmt = stmt.where(Block.property_id == property_id)
    if start is not None:
        stmt = stmt.where(Block.end > start)
    if end is not None:
        stmt = stmt.where(Block.start < end)
    return await listing.page(session, stmt.order_by(Block.start, Block.id), limit, offset)


async def create(
    session: AsyncSession,
    actor: Actor,
    data: BlockCreate,
    *,
    source_ref: str | None = None,
) -> Block:
    _may_write(actor, data.kind)
    prop = await properties.get(session, actor, data.property_id)
    await holds.expire_stale_holds(session, prop.id)
    block = Block(
        id=uuid.uuid4(),
        agency_id=prop.agency_id,
        property_id=prop.id,
        start=data.start,
        end=data.end,
        kind=data.kind,
        note=data.note,
        source_ref=source_ref,
        created_by=actor.user_id,
    )
    async with inventory.guarded(session, prop.id, data.start, data.end):
        session.add(block)
    payload = {
        "block_id": str(block.id),
        "property_id": str(block.property_id),
        "start": block.start.isoformat(),
        "end": block.end.isoformat(),
        "kind": block.kind.value,
    }
    outbox.emit(
        session,
        agency_id=block.agency_id,
        event_type="block.created",
        aggregate_type="block",
        aggregate_id=block.id,
        payload=payload,
    )
    await ari_store.availability_changed(
        session, block.agency_id, block.property_id, block.start, block.end
    )
    await audit.created(session, actor, "block", block)
    return block


async def delete(session: AsyncSession, actor: Actor, block_id: uuid.UUID) -> None:
    block = (
        await session.execute(
            select(Block)
            .where(
                Block.id == block_id,
                Block.agency_id == actor.require_agency(),
                Block.property_id.in_(properties.visible(actor).with_only_columns(Property.id)),
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if block is None:
        raise NotFound("Block not found.")
    _may_write(actor, block.kind)
    before = audit.snapshot(block)
    await session.execute(sql_delete(Block).where(Block.id == block.id))
    outbox.emit(
        session,
        agency_id=block.agency_id,
        event_type="block.deleted",
        aggregate_type="block",
        aggregate_id=block.id,
        payload={k: before[k] for k in ("property_id", "start", "end", "kind")}
        | {"block_id": str(block.id)},
    )
    await ari_store.availability_changed(
        session, block.agency_id, block.property_id, block.start, block.end
    )
    await audit.record(
        session,
        actor,
        agency_id=block.agency_id,
        entity_type="block",
        entity_id=block.id,
        action="deleted",
        before=before,
    )
