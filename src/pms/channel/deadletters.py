"""Dead letters: changes that failed N times, listed for a person, retried on demand. A retry
marks the range dirty again, so it pushes the state as it is THEN, never the stale one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.channel import connections
from pms.channel.engine import dirty
from pms.core.errors import Conflict, NotFound
from pms.core.permissions import Permission
from pms.core.tenancy import Actor
from pms.models.channel import ChannelDeadLetter, ChannelMapping


async def list_(
    session: AsyncSession, actor: Actor, connection_id: uuid.UUID, *, open_only: bool
) -> list[ChannelDeadLetter]:
    connection = await connections.get(session, actor, connection_id)
    stmt = select(ChannelDeadLetter).where(ChannelDeadLetter.connection_id == connection.id)
    if open_only:
        stmt = stmt.where(ChannelDeadLetter.retried_at.is_(None))
    return list((await session.execute(stmt.order_by(ChannelDeadLetter.created_at))).scalars())


async def retry(
    session: AsyncSession, actor: Actor, connection_id: uuid.UUID, dead_letter_id: uuid.UUID
) -> ChannelDeadLetter:
    actor.require(Permission.CHANNELS_MANAGE)
    connection = await connections.get(session, actor, connection_id)
    letter = (
        await session.execute(
            select(ChannelDeadLetter)
            .where(
                ChannelDeadLetter.id == dead_letter_id,
                ChannelDeadLetter.connection_id == connection.id,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if letter is None:
        raise NotFound("Dead letter not found.")
    if letter.retried_at is not None:
        return letter
    mapping = await session.get(ChannelMapping, letter.mapping_id)
    if mapping is None or not mapping.active:
        raise Conflict("The listing is no longer mapped.", conflict_type="mapping_inactive")
    letter.retried_at = datetime.now(UTC)
    await dirty.request_sync(session, letter.agency_id, [mapping.id], letter.start, letter.end)
    return letter
