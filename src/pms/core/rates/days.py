"""Per-date overrides of a rate plan, written in bulk over a range of dates."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import Table, TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import ari, ari_store, audit, outbox
from pms.core.dates import ONE_DAY, days
from pms.core.errors import Unprocessable
from pms.core.rates.plans import get_plan
from pms.core.tenancy import Actor
from pms.models.audit import AuditEntry
from pms.models.outbox import OutboxEvent
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
    # One read for the overrides as they are and everything the recomputation needs (the
    # changed dates lie in [lo, hi)); the plan's lock keeps it true until the commit.
    known = await ari_store.window(session, plan, lo, hi)
    existing = {
        day: {f: getattr(o, f) for f in _OVERRIDE_FIELDS} for day, o in known.overrides.items()
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
    if not changed:
        return 0
    gone = [d for d, v in changed.items() if _empty(v)]
    kept = [(d, v) for d, v in sorted(changed.items()) if not _empty(v)]
    # The ARI rows from the overrides as they will be (nothing read back), and everything
    # written in one statement: the overrides, the ARI rows, their ari.changed event, the
    # audit row.
    overrides = dict(known.overrides)
    for day in gone:
        overrides.pop(day, None)
    for day, v in kept:
        overrides[day] = ari.DayOverride(day=day, **v)
    rows = await ari_store.changes(
        session,
        plan,
        min(changed),
        max(changed) + ONE_DAY,
        replace(known, overrides=overrides),
    )
    params = {
        **ari_store.rows_params(plan, rows),
        "gone": gone,
        **{f"o_{f}": [v[f] for _, v in kept] for f in _OVERRIDE_FIELDS},
        "o_day": [d for d, _ in kept],
    }
    event = ari_store.announcement(plan, rows)[1] if rows else dict.fromkeys(outbox.EVENT_COLUMNS)
    params |= {f"e_{c}": event[c] for c in outbox.EVENT_COLUMNS}
    entry = audit.entry(
        actor,
        agency_id=plan.agency_id,
        entity_type="rate_plan",
        entity_id=plan.id,
        action="days_updated",
        after={"ranges": [r.model_dump(mode="json") for r in data.ranges]},
    )
    params |= {f"a_{c}": entry[c] for c in audit.ENTRY_COLUMNS}
    await session.execute(_WRITE, params)
    return len(changed)


def _write_statement() -> TextClause:
    events_t: Table = OutboxEvent.__table__  # type: ignore[assignment]
    audit_t: Table = AuditEntry.__table__  # type: ignore[assignment]
    o_types = {"price_minor": "integer", "min_stay": "integer", "max_stay": "integer"}
    unnest = ", ".join(f"CAST(:o_{f} AS {o_types.get(f, 'boolean')}[])" for f in _OVERRIDE_FIELDS)
    fields = ", ".join(_OVERRIDE_FIELDS)
    values = ", ".join(f"o.{f}" for f in _OVERRIDE_FIELDS)
    # Fixed fragments only (column names, ari_store's statement); every value is a parameter.
    sql = f"""
    WITH gone AS (
      DELETE FROM rate_day_overrides
       WHERE rate_plan_id = CAST(:plan AS uuid) AND day = ANY(CAST(:gone AS date[]))
    ), kept AS (
      INSERT INTO rate_day_overrides (rate_plan_id, day, agency_id, {fields})
      SELECT CAST(:plan AS uuid), o.day, CAST(:agency AS uuid), {values}
        FROM unnest(CAST(:o_day AS date[]), {unnest}) AS o(day, {fields})
      ON CONFLICT (rate_plan_id, day) DO UPDATE SET
        {", ".join(f"{f} = excluded.{f}" for f in _OVERRIDE_FIELDS)}
    ), ari_rows AS ({ari_store.ROWS_UPSERT_SQL}
    ), event AS (
      INSERT INTO outbox_events ({", ".join(outbox.EVENT_COLUMNS)})
      SELECT {", ".join(f":e_{c}" for c in outbox.EVENT_COLUMNS)} WHERE :e_event_type IS NOT NULL
    )
    INSERT INTO audit_log ({", ".join(audit.ENTRY_COLUMNS)})
    VALUES ({", ".join(f":a_{c}" for c in audit.ENTRY_COLUMNS)})
    """  # noqa: S608
    return text(sql).bindparams(
        *(bindparam(f"e_{c}", type_=events_t.c[c].type) for c in outbox.EVENT_COLUMNS),
        *(bindparam(f"a_{c}", type_=audit_t.c[c].type) for c in audit.ENTRY_COLUMNS),
    )


# Built once: the overrides' delete and upsert, the ARI rows' upsert (`ari_store`), the
# ari.changed event when rows changed, and the audit row, as data-modifying CTEs of one
# statement (each part on an empty array writes nothing).
_WRITE = _write_statement()
