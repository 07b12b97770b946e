"""The outbound queue, durable in PostgreSQL: per mapping one dirty range ``[start, end)``
that grows with every change (``seq`` counts them) and remembers its oldest change (``since``).
A crash loses nothing: the row stays until a flush has pushed everything it covered."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Select, bindparam, delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import outbox
from pms.models.channel import ChannelDirty, ChannelMapping

SYNC_REQUESTED = "channel.sync_requested"


@dataclass(frozen=True)
class Dirty:
    mapping_id: uuid.UUID
    start: date
    end: date
    since: datetime
    seq: int


async def mark(
    session: AsyncSession,
    agency_id: uuid.UUID,
    mapping_ids: list[uuid.UUID],
    start: date,
    end: date,
    *,
    now: datetime | None = None,
) -> None:
    """Widen each mapping's dirty range to cover ``[start, end)`` (one statement)."""
    if not mapping_ids or end <= start:
        return
    at = now or datetime.now(UTC)
    stmt = insert(ChannelDirty).values(
        [
            {"mapping_id": m, "agency_id": agency_id, "start": start, "end": end, "since": at}
            for m in mapping_ids
        ]
    )
    t = ChannelDirty.__table__.c
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[t.mapping_id],
            set_={
                "start": func.least(t.start, stmt.excluded.start),
                "end": func.greatest(t.end, stmt.excluded.end),
                "since": func.least(t.since, stmt.excluded.since),
                "seq": t.seq + 1,
            },
        )
    )


async def request_sync(
    session: AsyncSession,
    agency_id: uuid.UUID,
    mapping_ids: list[uuid.UUID],
    start: date,
    end: date,
) -> None:
    """Mark dirty and ask, through the outbox (same transaction), for a flush of each."""
    await mark(session, agency_id, mapping_ids, start, end)
    for mapping_id in mapping_ids:
        outbox.emit(
            session,
            agency_id=agency_id,
            event_type=SYNC_REQUESTED,
            aggregate_type="channel_mapping",
            aggregate_id=mapping_id,
            payload={"mapping_id": str(mapping_id)},
        )


def _mark_for_property_statement(by_plan: bool) -> Select[Any]:
    m = ChannelMapping.__table__.c
    which = [m.property_id == bindparam("m_property", type_=PG_UUID(as_uuid=True)), m.active]
    if by_plan:
        which.append(m.rate_plan_id == bindparam("m_plan", type_=PG_UUID(as_uuid=True)))
    targets = select(m.id, m.agency_id, m.connection_id, m.platform).where(*which).cte("targets")
    stmt = insert(ChannelDirty).from_select(
        ["mapping_id", "agency_id", "start", "end", "since"],
        select(
            targets.c.id,
            targets.c.agency_id,
            bindparam("m_start", type_=Date),
            bindparam("m_end", type_=Date),
            bindparam("m_at", type_=DateTime(timezone=True)),
        ),
    )
    t = ChannelDirty.__table__.c
    upsert = (
        stmt.on_conflict_do_update(
            index_elements=[t.mapping_id],
            set_={
                "start": func.least(t.start, stmt.excluded.start),
                "end": func.greatest(t.end, stmt.excluded.end),
                "since": func.least(t.since, stmt.excluded.since),
                "seq": t.seq + 1,
            },
        )
        .returning(t.mapping_id)
        .cte("marked")
    )
    return (
        select(targets.c.connection_id, targets.c.platform, targets.c.agency_id)
        .join(upsert, upsert.c.mapping_id == targets.c.id)
        .distinct()
    )


# Built once (every ari.changed and availability.changed event runs one): building it cost
# the dispatch more than running it. Keyed by whether the event names a rate plan.
_MARK_FOR_PROPERTY = {by_plan: _mark_for_property_statement(by_plan) for by_plan in (False, True)}


async def mark_for_property(
    session: AsyncSession,
    property_id: uuid.UUID,
    start: date,
    end: date,
    rate_plan_id: uuid.UUID | None = None,
) -> list[tuple[uuid.UUID, str, uuid.UUID]]:
    """An outbox event changed nights of a property (and plan): mark its active mappings, in
    one statement. Returns (connection id, platform, agency id) of each connection concerned,
    for the flush tasks (one per account, not per listing: ``scope``)."""
    if end <= start:
        return []
    params: dict[str, Any] = {
        "m_property": property_id,
        "m_start": start,
        "m_end": end,
        "m_at": datetime.now(UTC),
    }
    if rate_plan_id is not None:
        params["m_plan"] = rate_plan_id
    rows = await session.execute(_MARK_FOR_PROPERTY[rate_plan_id is not None], params)
    return [(r.connection_id, r.platform, r.agency_id) for r in rows]


async def read(session: AsyncSession, mapping_id: uuid.UUID) -> Dirty | None:
    row = await session.get(ChannelDirty, mapping_id, populate_existing=True)
    if row is None:
        return None
    return Dirty(row.mapping_id, row.start, row.end, row.since, row.seq)


async def clear(session: AsyncSession, mapping_id: uuid.UUID, seq: int) -> bool:
    """Remove the row if nothing was added since ``seq`` was read; False: more to push."""
    result = await session.execute(
        delete(ChannelDirty)
        .where(ChannelDirty.mapping_id == mapping_id, ChannelDirty.seq == seq)
        .returning(ChannelDirty.mapping_id)
    )
    return result.first() is not None


async def clear_many(session: AsyncSession, seen: list[tuple[uuid.UUID, int]]) -> set[uuid.UUID]:
    """``clear`` for many (mapping id, seq) pairs in one statement: the mappings removed."""
    if not seen:
        return set()
    result = await session.execute(
        delete(ChannelDirty)
        .where(tuple_(ChannelDirty.mapping_id, ChannelDirty.seq).in_(seen))
        .returning(ChannelDirty.mapping_id)
    )
    return set(result.scalars())


async def overdue(
    session: AsyncSession, older_than: datetime
) -> list[tuple[uuid.UUID, str, uuid.UUID]]:
    """Connections with dirty listings whose flush seems lost (the beat sweep's safety net):
    (connection id, platform, agency id)."""
    rows = await session.execute(
        select(ChannelMapping.connection_id, ChannelMapping.platform, ChannelMapping.agency_id)
        .join(ChannelDirty, ChannelMapping.id == ChannelDirty.mapping_id)
        .where(ChannelDirty.since < older_than)
        .distinct()
    )
    return [(r.connection_id, r.platform, r.agency_id) for r in rows]
