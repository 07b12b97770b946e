"""The sync log: one row per push, pull or reconciliation, written when it ends (always)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.channel import connections
from pms.core.errors import NotFound
from pms.core.tenancy import Actor
from pms.models.channel import ChannelSyncLog


@dataclass
class Entry:
    kind: str
    connection_id: uuid.UUID
    agency_id: uuid.UUID
    mapping_id: uuid.UUID | None = None
    start: date | None = None
    end: date | None = None
    nights: int = 0
    calls: int = 0
    attempts: int = 0
    outcome: str = "running"
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def row(self) -> ChannelSyncLog:
        finished = datetime.now(UTC)
        return ChannelSyncLog(
            agency_id=self.agency_id,
            connection_id=self.connection_id,
            mapping_id=self.mapping_id,
            kind=self.kind,
            start=self.start,
            end=self.end,
            nights=self.nights,
            calls=self.calls,
            attempts=self.attempts,
            latency_ms=int((finished - self.started_at).total_seconds() * 1000),
            outcome=self.outcome,
            error=(self.error or None) and self.error[:1000],
            details=self.details,
            started_at=self.started_at,
            finished_at=finished,
        )


async def list_(
    session: AsyncSession,
    actor: Actor,
    connection_id: uuid.UUID,
    *,
    limit: int,
    before_id: int | None,
) -> list[ChannelSyncLog]:
    connection = await connections.get(session, actor, connection_id)
    stmt = select(ChannelSyncLog).where(ChannelSyncLog.connection_id == connection.id)
    if before_id is not None:
        stmt = stmt.where(ChannelSyncLog.id < before_id)
    rows = await session.execute(stmt.order_by(ChannelSyncLog.id.desc()).limit(limit))
    return list(rows.scalars())


async def get(
    session: AsyncSession, actor: Actor, connection_id: uuid.UUID, entry_id: int
) -> ChannelSyncLog:
    connection = await connections.get(session, actor, connection_id)
    row = (
        await session.execute(
            select(ChannelSyncLog).where(
                ChannelSyncLog.id == entry_id, ChannelSyncLog.connection_id == connection.id
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("Sync log entry not found.")
    return row
