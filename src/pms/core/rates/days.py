"""Per-date overrides of a rate plan, written in bulk over a range of dates."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import ari, ari_store, audit
from pms.core.dates import ONE_DAY, days
from pms.core.errors import Unprocessable
from pms.core.rates.plans import get_plan
from pms.core.tenancy import Actor
from pms.models.rates import (
    RateDayOverride,
)
from pms.schemas import rates as s

_OVERRIDE_FIELDS = (
    "price_minor",
    "min_stay",
    "max_stay",
    "closed",
    "closed_to_arrival",
    "closed_to_departure",
)


def _empty(values: dict[str, Any]) -> bool:
    return all(values[f] is None or values[f] is False for f in _OVERRIDE_FIELDS)


async def put_days(
    session: AsyncSession, actor: Actor, plan_id: uuid.UUID, data: s.DaysUpdate
) -> int:
    """Apply the ranges in order (a later range wins on shared dates); a date left with no
    override at all loses its row."""
    # The plan is locked before its overrides are written: an override's foreign key
    # share-locks the plan row, so taking the plan's lock only to recompile (as a second
    # writer of the same plan does too) would deadlock two writers.
    plan, _ = await get_plan(session, actor, plan_id, lock=True)
    lo = min(r.start for r in data.ranges)
    hi = max(r.end for r in data.ranges)
    existing = {
        o.day: {f: getattr(o, f) for f in _OVERRIDE_FIELDS}
        for o in (
            await session.execute(
                select(RateDayOverride).where(
                    RateDayOverride.rate_plan_id == plan.id,
                    RateDayOverride.day >= lo,
                    RateDayOverride.day < hi,
                )
            )
        ).scalars()
    }
    wanted: dict[date, dict[str, Any]] = {}
    for index, rng in enumerate(data.ranges):
        given = rng.model_dump(exclude_unset=True, include=set(_OVERRIDE_FIELDS))
        for day in days(rng.start, rng.end):
            current = wanted.get(day) or existing.get(day) or dict.fromkeys(_OVERRIDE_FIELDS)
            merged = {**current, **given}
            for flag in ("closed", "closed_to_arrival", "closed_to_departure"):
                merged[flag] = bool(merged[flag])
            try:
                ari.DayOverride(
                    day=day,
                    price_minor=merged["price_minor"],
                    min_stay=merged["min_stay"],
                    max_stay=merged["max_stay"],
                )
            except ValueError as exc:
                raise Unprocessable(
                    f"ranges[{index}] on {day}: {exc}",
                    errors=[{"field": f"ranges[{index}]", "in": "body", "message": str(exc)}],
                ) from None
            wanted[day] = merged
    changed = {d: v for d, v in wanted.items() if existing.get(d) != v}
    gone = [d for d, v in changed.items() if _empty(v)]
    kept = [
        {"rate_plan_id": plan.id, "day": d, "agency_id": plan.agency_id, **v}
        for d, v in sorted(changed.items())
        if not _empty(v)
    ]
    if gone:
        await session.execute(
            delete(RateDayOverride).where(
                RateDayOverride.rate_plan_id == plan.id, RateDayOverride.day.in_(gone)
            )
        )
    if kept:
        stmt = insert(cast(Table, RateDayOverride.__table__))
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["rate_plan_id", "day"],
                set_={f: stmt.excluded[f] for f in _OVERRIDE_FIELDS},
            ),
            kept,
        )
    if changed:
        await ari_store.recompute(session, plan, min(changed), max(changed) + ONE_DAY, locked=True)
        await audit.record(
            session,
            actor,
            agency_id=plan.agency_id,
            entity_type="rate_plan",
            entity_id=plan.id,
            action="days_updated",
            after={"ranges": [r.model_dump(mode="json") for r in data.ranges]},
        )
    return len(changed)
