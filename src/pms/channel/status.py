"""What a person needs to see that sync works: per connection and mapped listing the status,
last push and pull, lag (age of the oldest change not yet on the platform), pending ranges,
failures in a row, circuit-breaker state, unacknowledged inbound messages and the last error;
and per night of a property, what each platform should show and why."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.channel import connections, fidelity
from pms.channel.engine import breaker, flush
from pms.core import ari_store, inventory, properties
from pms.core.booking_status import BLOCK_MARKER
from pms.core.tenancy import Actor
from pms.models.channel import (
    ChannelConnection,
    ChannelDirty,
    ChannelInbox,
    ChannelMapping,
    InboxStatus,
)
from pms.models.property import Property
from pms.redis_client import get_redis


@dataclass
class Health:
    lag_seconds: float | None
    pending_ranges: list[dict[str, str]]
    breaker: str
    unacknowledged_inbound: int


async def connection_health(
    session: AsyncSession, connection: ChannelConnection
) -> tuple[Health, dict[uuid.UUID, Health]]:
    now = datetime.now(UTC)
    dirty_rows = (
        (
            await session.execute(
                select(ChannelDirty)
                .join(ChannelMapping, ChannelMapping.id == ChannelDirty.mapping_id)
                .where(ChannelMapping.connection_id == connection.id)
            )
        )
        .scalars()
        .all()
    )
    unacked = (
        await session.execute(
            select(func.count()).where(
                ChannelInbox.agency_id == connection.agency_id,
                ChannelInbox.platform == connection.platform,
                ChannelInbox.status.in_(
                    [InboxStatus.PENDING, InboxStatus.FAILED, InboxStatus.UNMAPPED]
                ),
            )
        )
    ).scalar_one()
    state = (await breaker.state(get_redis(), str(connection.id))).state
    per_mapping = {
        d.mapping_id: Health(
            (now - d.since).total_seconds(),
            [{"start": d.start.isoformat(), "end": d.end.isoformat()}],
            state,
            0,
        )
        for d in dirty_rows
    }
    oldest = min((d.since for d in dirty_rows), default=None)
    overall = Health(
        (now - oldest).total_seconds() if oldest else None,
        [r for h in per_mapping.values() for r in h.pending_ranges],
        state,
        int(unacked),
    )
    return overall, per_mapping


async def channel_days(
    session: AsyncSession, actor: Actor, property_id: uuid.UUID, start: date, end: date
) -> list[dict[str, Any]]:
    """Per night: Core's values and why (the booking or block occupying it, the restriction's
    source), and per mapped listing what the platform should show, what it last acknowledged
    and when, and whether a push is pending."""
    prop = await properties.get(session, actor, property_id)
    mappings = (
        (
            await session.execute(
                select(ChannelMapping).where(
                    ChannelMapping.property_id == prop.id, ChannelMapping.active
                )
            )
        )
        .scalars()
        .all()
    )
    occupied = await inventory.occupied(session, [prop.id], start, end)
    dirty_rows = {
        d.mapping_id: d
        for d in (
            await session.execute(
                select(ChannelDirty).where(ChannelDirty.mapping_id.in_([m.id for m in mappings]))
            )
        ).scalars()
    }
    by_mapping = []
    for m in mappings:
        want = await flush.wanted(session, m, start, end)
        have = await flush.acknowledged(session, m.id, start, end)
        pushed = await _pushed_at(session, m.id, start, end)
        lost = await fidelity.gaps(session, m, start, end)
        by_mapping.append((m, want, have, pushed, lost))
    out = []
    night = start
    while night < end:
        why = next(
            (
                {
                    "kind": "block" if r.status == BLOCK_MARKER else r.status,
                    "booking_id": str(r.booking_id) if r.booking_id else None,
                    "block_id": str(r.block_id) if r.block_id else None,
                }
                for r in occupied
                if r.start <= night < r.end
            ),
            None,
        )
        channels = []
        for m, want, have, pushed, lost in by_mapping:
            d = dirty_rows.get(m.id)
            w = want.get(night)
            channels.append(
                {
                    "mapping_id": str(m.id),
                    "platform": m.platform,
                    "remote_listing_id": m.remote_listing_id,
                    "should_show": w.__dict__ if w else None,
                    "acknowledged": have[night].__dict__ if night in have else None,
                    "pushed_at": pushed[night].isoformat() if night in pushed else None,
                    "in_step": w is not None and have.get(night) == w,
                    "pending": bool(d and d.start <= night < d.end),
                    # Core's rules this platform cannot show, and what it shows instead.
                    "warnings": [gap.__dict__ for gap in lost.get(night, [])],
                }
            )
        out.append({"date": night.isoformat(), "occupied_by": why, "channels": channels})
        night += timedelta(days=1)
    return out


async def _pushed_at(
    session: AsyncSession, mapping_id: uuid.UUID, start: date, end: date
) -> dict[date, datetime]:
    from pms.models.channel import ChannelNight

    rows = await session.execute(
        select(ChannelNight.night, ChannelNight.pushed_at).where(
            ChannelNight.mapping_id == mapping_id,
            ChannelNight.night >= start,
            ChannelNight.night < end,
        )
    )
    return {n: at for n, at in rows.all()}


async def fidelity_warnings(
    session: AsyncSession, connection: ChannelConnection
) -> list[fidelity.RuleWarning]:
    """Every mapped listing's restriction fidelity warnings over the sync window."""
    rows = await session.execute(
        select(ChannelMapping, Property.timezone)
        .join(Property, Property.id == ChannelMapping.property_id)
        .where(ChannelMapping.connection_id == connection.id, ChannelMapping.active)
    )
    out = []
    for mapping, timezone in rows.all():
        today = ari_store.local_today(timezone)
        out += await fidelity.warnings(session, mapping, today, today + timedelta(days=365))
    return out


__all__ = ["Health", "channel_days", "connection_health", "connections", "fidelity_warnings"]
