"""The stored daily ARI rows: compiled by `core.ari` from a plan's rules and the occupied
nights, recomputed for exactly the affected dates inside the transaction that changes a rate,
booking or block, each recomputation announced by one `ari.changed` outbox event.

Every availability change goes through `availability_changed` here, which is the one hook the
booking and block services call."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    ScalarSelect,
    Select,
    Text,
    Uuid,
    bindparam,
    cast,
    column,
    delete,
    func,
    select,
    text,
    tuple_,
    values,
)
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import NullType

from pms.core import ari, inventory, outbox, properties
from pms.core.dates import ONE_DAY, Stay, nights_of
from pms.core.errors import NotFound
from pms.core.money import minor_unit_exponent
from pms.core.tenancy import Actor
from pms.models.inventory import OccupiedRange
from pms.models.outbox import OutboxEvent
from pms.models.property import Property
from pms.models.rates import AriDay as AriRow
from pms.models.rates import RateDayOverride, RatePlan, RateSeason
from pms.schemas import rates as s

HORIZON_MONTHS = 24
_ON_LOOP_DAYS = 90
_VALUE_COLUMNS = (
    "available",
    "price_minor",
    "min_stay",
    "max_stay",
    "closed_to_arrival",
    "closed_to_departure",
    "min_stay_source",
)


def local_today(timezone: str, now: datetime | None = None) -> date:
    """The property's today: booking windows and the ARI horizon follow its own calendar."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()


def horizon_end(today: date) -> date:
    """The first date past the stored rows: 24 months after today (Feb 29 → Feb 28)."""
    years, month0 = divmod(today.month - 1 + HORIZON_MONTHS, 12)
    year, month = today.year + years, month0 + 1
    day = today.day
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1


def weekday_prices(stored: dict[str, int]) -> dict[int, int]:
    return {int(k): int(v) for k, v in stored.items()}


async def load_rules(
    session: AsyncSession, plan: RatePlan, start: date, end: date
) -> ari.RatePlanRules:
    """The plan's rules that can touch `[start, end)`: seasons overlapping it, its overrides."""
    seasons = (
        await session.execute(
            select(RateSeason).where(
                RateSeason.rate_plan_id == plan.id,
                RateSeason.start < end,
                RateSeason.end > start,
            )
        )
    ).scalars()
    overrides = (
        await session.execute(
            select(RateDayOverride).where(
                RateDayOverride.rate_plan_id == plan.id,
                RateDayOverride.day >= start,
                RateDayOverride.day < end,
            )
        )
    ).scalars()
    return ari.RatePlanRules(
        base_price_minor=plan.base_price_minor,
        default_min_stay=plan.default_min_stay,
        default_max_stay=plan.default_max_stay,
        weekday_prices=weekday_prices(plan.weekday_prices),
        seasons=[
            ari.Season(
                start=s.start,
                end=s.end,
                price_minor=s.price_minor,
                min_stay=s.min_stay,
                weekday_prices=weekday_prices(s.weekday_prices),
                name=s.name,
            )
            for s in seasons
        ],
        overrides=[
            ari.DayOverride(
                day=o.day,
                price_minor=o.price_minor,
                min_stay=o.min_stay,
                max_stay=o.max_stay,
                closed=o.closed,
                closed_to_arrival=o.closed_to_arrival,
                closed_to_departure=o.closed_to_departure,
            )
            for o in overrides
        ],
    )


async def occupied_nights(
    session: AsyncSession, property_id: uuid.UUID, start: date, end: date
) -> frozenset[date]:
    ranges = await inventory.occupied(session, [property_id], start, end)
    return nights_of(Stay(r.start, r.end) for r in ranges)


# Plain column tuples, not ORM objects: two years of rows load in a few milliseconds. Built
# once: every quote and booking reads its rows with it.
_STORED_ROWS = (
    select(AriRow.__table__.c.day, *(AriRow.__table__.c[c] for c in _VALUE_COLUMNS))
    .where(
        AriRow.__table__.c.rate_plan_id == bindparam("rows_plan", type_=PG_UUID(as_uuid=True)),
        AriRow.__table__.c.day >= bindparam("rows_start", type_=Date),
        AriRow.__table__.c.day < bindparam("rows_end", type_=Date),
    )
    .order_by(AriRow.__table__.c.day)
)


async def stored_rows(
    session: AsyncSession, rate_plan_id: uuid.UUID, start: date, end: date
) -> list[ari.AriDay]:
    rows = await session.execute(
        _STORED_ROWS, {"rows_plan": rate_plan_id, "rows_start": start, "rows_end": end}
    )
    return rows_of(rows)


def stored_rows_array(
    rate_plan_id: ColumnElement[Any] | InstrumentedAttribute[Any],
    start: ColumnElement[Any],
    end: ColumnElement[Any],
) -> ScalarSelect[Any]:
    """`stored_rows` as one value of another statement: an array of row values in day order
    (NULL when there are none), read back by `rows_of`."""
    t = AriRow.__table__.c
    return (
        select(
            func.array_agg(
                aggregate_order_by(tuple_(t.day, *(t[c] for c in _VALUE_COLUMNS)), t.day),
                # Passed through as the driver decodes it (a list of records).
                type_=NullType(),
            )
        )
        .where(t.rate_plan_id == rate_plan_id, t.day >= start, t.day < end)
        .scalar_subquery()
    )


def rows_of(rows: Iterable[Sequence[Any]] | None) -> list[ari.AriDay]:
    """Stored rows from their values (day, then `_VALUE_COLUMNS`)."""
    return [
        ari.AriDay(
            day=day,
            available=available,
            price_minor=price,
            min_stay=min_stay,
            max_stay=max_stay,
            closed_to_arrival=cta,
            closed_to_departure=ctd,
            min_stay_source=ari.RuleSource(source),
        )
        for day, available, price, min_stay, max_stay, cta, ctd, source in rows or ()
    ]


async def stored_rows_many(
    session: AsyncSession, windows: Sequence[tuple[uuid.UUID, uuid.UUID, date, date]]
) -> dict[uuid.UUID, list[ari.AriDay]]:
    """The stored rows of many windows in one statement: ``(key, rate plan, start, end)`` each,
    answered per key (two keys may name the same plan)."""
    if not windows:
        return {}
    t = AriRow.__table__.c
    w = values(
        column("key", Uuid),
        column("plan", Uuid),
        column("s", Date),
        column("e", Date),
        name="w",
    ).data(list(windows))
    rows = await session.execute(
        select(w.c.key, t.day, *(t[c] for c in _VALUE_COLUMNS))
        .join(w, (t.rate_plan_id == w.c.plan) & (t.day >= w.c.s) & (t.day < w.c.e))
        .order_by(w.c.key, t.day)
    )
    out: dict[uuid.UUID, list[ari.AriDay]] = {key: [] for key, *_ in windows}
    for key, day, available, price, min_stay, max_stay, cta, ctd, source in rows:
        out[key].append(
            ari.AriDay(
                day=day,
                available=available,
                price_minor=price,
                min_stay=min_stay,
                max_stay=max_stay,
                closed_to_arrival=cta,
                closed_to_departure=ctd,
                min_stay_source=ari.RuleSource(source),
            )
        )
    return out


async def compile_stored_window(
    session: AsyncSession, plan: RatePlan, start: date, end: date
) -> list[ari.AriDay]:
    """What the rows of `[start, end)` should be, from the rules and bookings as they are now."""
    rules = await load_rules(session, plan, start, end)
    occupied = await occupied_nights(session, plan.property_id, start, end)
    return await _compile(rules, start, end, occupied)


async def _compile(
    rules: ari.RatePlanRules, start: date, end: date, occupied: frozenset[date]
) -> list[ari.AriDay]:
    if (end - start).days > _ON_LOOP_DAYS:
        # Two years of days take tens of milliseconds: off the event loop.
        return await asyncio.to_thread(ari.compile_ari, rules, start, end, occupied)
    return ari.compile_ari(rules, start, end, occupied)


@dataclass(frozen=True, slots=True)
class Window:
    """A plan's window `[start, end)` as a recomputation needs it: its seasons overlapping
    the window, its overrides in it, the occupied nights of its property, and the stored rows.
    Read in one statement (`window`) after the plan is locked: every writer of these locks
    the plan first, so they hold until the transaction ends."""

    start: date
    end: date
    seasons: tuple[ari.Season, ...]
    overrides: dict[date, ari.DayOverride]
    occupied: frozenset[date]
    stored: dict[date, ari.AriDay]

    def rules(self, plan: RatePlan) -> ari.RatePlanRules:
        return ari.RatePlanRules(
            base_price_minor=plan.base_price_minor,
            default_min_stay=plan.default_min_stay,
            default_max_stay=plan.default_max_stay,
            weekday_prices=weekday_prices(plan.weekday_prices),
            seasons=self.seasons,
            overrides=list(self.overrides.values()),
        )


def _window_statement() -> Select[Any]:
    plan = bindparam("w_plan", type_=PG_UUID(as_uuid=True))
    prop = bindparam("w_property", type_=PG_UUID(as_uuid=True))
    start, end = bindparam("w_start", type_=Date), bindparam("w_end", type_=Date)
    se, ov = RateSeason.__table__.c, RateDayOverride.__table__.c
    # Arrays of row values, passed through as the driver decodes them (lists of records).
    seasons = (
        select(
            func.array_agg(
                tuple_(
                    se.start,
                    se.end,
                    se.price_minor,
                    se.min_stay,
                    cast(se.weekday_prices, Text),
                    se.name,
                ),
                type_=NullType(),
            )
        )
        .where(se.rate_plan_id == plan, se.start < end, se.end > start)
        .scalar_subquery()
    )
    overrides = (
        select(
            func.array_agg(
                tuple_(ov.day, *(ov[f] for f in _OVERRIDE_COLUMNS)),
                type_=NullType(),
            )
        )
        .where(ov.rate_plan_id == plan, ov.day >= start, ov.day < end)
        .scalar_subquery()
    )
    occupied = (
        select(func.array_agg(tuple_(OccupiedRange.start, OccupiedRange.end), type_=NullType()))
        .where(inventory.active_overlapping_where(OccupiedRange.property_id == prop, start, end))
        .scalar_subquery()
    )
    return select(
        seasons.label("seasons"),
        overrides.label("overrides"),
        occupied.label("occupied"),
        stored_rows_array(plan, start, end).label("stored"),
    )


_OVERRIDE_COLUMNS = (
    "price_minor",
    "min_stay",
    "max_stay",
    "closed",
    "closed_to_arrival",
    "closed_to_departure",
)
# Built once: building the four reads per recomputation cost about as much as running them.
_WINDOW = _window_statement()


async def window(session: AsyncSession, plan: RatePlan, start: date, end: date) -> Window:
    """The plan's `Window` of `[start, end)`, in one round trip; the plan must be locked."""
    row = (
        await session.execute(
            _WINDOW,
            {
                "w_plan": plan.id,
                "w_property": plan.property_id,
                "w_start": start,
                "w_end": end,
            },
        )
    ).one()
    seasons, overrides, occupied, stored = row
    return Window(
        start=start,
        end=end,
        seasons=tuple(
            ari.Season(
                start=s_start,
                end=s_end,
                price_minor=price,
                min_stay=min_stay,
                weekday_prices=weekday_prices(json.loads(prices)),
                name=name,
            )
            for s_start, s_end, price, min_stay, prices, name in seasons or ()
        ),
        overrides={
            day: ari.DayOverride(
                day=day,
                price_minor=price,
                min_stay=min_stay,
                max_stay=max_stay,
                closed=closed,
                closed_to_arrival=cta,
                closed_to_departure=ctd,
            )
            for day, price, min_stay, max_stay, closed, cta, ctd in overrides or ()
        },
        occupied=nights_of(Stay(r_start, r_end) for r_start, r_end in occupied or ()),
        stored={r.day: r for r in rows_of(stored)},
    )


# One statement for any number of rows: the values travel as one array per column, which the
# driver encodes natively, so writing two years of rows costs the event loop almost nothing.
# (Also a data-modifying CTE of a caller's statement: `rows_params` are its parameters.)
ROWS_UPSERT_SQL = """
    INSERT INTO ari_days (rate_plan_id, agency_id, property_id, day, available, price_minor,
                          min_stay, max_stay, closed_to_arrival, closed_to_departure,
                          min_stay_source)
    SELECT CAST(:plan AS uuid), CAST(:agency AS uuid), CAST(:property AS uuid), r.*
      FROM unnest(CAST(:days AS date[]), CAST(:available AS boolean[]),
                  CAST(:price AS integer[]), CAST(:min_stay AS integer[]),
                  CAST(:max_stay AS integer[]), CAST(:cta AS boolean[]),
                  CAST(:ctd AS boolean[]), CAST(:source AS varchar[])) AS r
    ON CONFLICT (rate_plan_id, day) DO UPDATE SET
      available = excluded.available, price_minor = excluded.price_minor,
      min_stay = excluded.min_stay, max_stay = excluded.max_stay,
      closed_to_arrival = excluded.closed_to_arrival,
      closed_to_departure = excluded.closed_to_departure,
      min_stay_source = excluded.min_stay_source
"""
_UPSERT = text(ROWS_UPSERT_SQL)


def rows_params(plan: RatePlan, rows: Sequence[ari.AriDay]) -> dict[str, Any]:
    return {
        "plan": plan.id,
        "agency": plan.agency_id,
        "property": plan.property_id,
        "days": [r.day for r in rows],
        "available": [r.available for r in rows],
        "price": [r.price_minor for r in rows],
        "min_stay": [r.min_stay for r in rows],
        "max_stay": [r.max_stay for r in rows],
        "cta": [r.closed_to_arrival for r in rows],
        "ctd": [r.closed_to_departure for r in rows],
        "source": [r.min_stay_source.value for r in rows],
    }


async def _write(session: AsyncSession, plan: RatePlan, rows: Sequence[ari.AriDay]) -> None:
    if not rows:
        return
    await session.execute(_UPSERT, rows_params(plan, rows))


async def _lock(session: AsyncSession, plan_ids: Iterable[uuid.UUID]) -> list[RatePlan]:
    """Lock the plans (in id order, so two writers never deadlock on them) and reload them.

    Recomputations of one plan run one after another: the second one starts from a fresh
    snapshot (READ COMMITTED) that includes the first one's booking or rate change, so the
    last writer's rows are never computed from stale rules or occupancy."""
    ids = sorted(set(plan_ids))
    if not ids:
        return []
    rows = await session.execute(
        select(RatePlan)
        .where(RatePlan.id.in_(ids))
        .order_by(RatePlan.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars().all())


async def recompute(
    session: AsyncSession,
    plan: RatePlan,
    start: date,
    end: date,
    *,
    locked: bool = False,
    known: Window | None = None,
) -> Stay | None:
    """Recompile the plan's stored rows of `[start, end)` (clipped to its window); write and
    announce only what changed. Returns the changed range, if any. (`known`: as `changes`.)"""
    if not locked:
        (plan,) = await _lock(session, [plan.id])
    changed = await changes(session, plan, start, end, known)
    if not changed:
        return None
    await _write(session, plan, changed)
    span, event = announcement(plan, changed)
    session.add(OutboxEvent(**event))
    return span


async def changes(
    session: AsyncSession,
    plan: RatePlan,
    start: date,
    end: date,
    known: Window | None = None,
) -> list[ari.AriDay]:
    """The plan's rows of `[start, end)` (clipped to its window) whose compiled values differ
    from the stored ones, in day order; the plan must be locked.

    `known` is a `Window` covering `[start, end)` that the caller read after locking the plan
    (and brought up to date with what it wrote since: its overrides): then nothing is read."""
    lo, hi = max(start, plan.ari_start), min(end, plan.ari_end)
    if lo >= hi:
        return []
    if known is None:
        known = await window(session, plan, lo, hi)
    elif known.start > lo or known.end < hi:
        raise ValueError(f"the window read, {known.start}..{known.end}, misses {lo}..{hi}")
    new = await _compile(known.rules(plan), lo, hi, known.occupied)
    return [row for row in new if known.stored.get(row.day) != row]


def announcement(plan: RatePlan, changed: Sequence[ari.AriDay]) -> tuple[Stay, dict[str, Any]]:
    """The span of the changed rows (in day order) and its ari.changed event's values."""
    span = Stay(changed[0].day, changed[-1].day + ONE_DAY)
    return span, outbox.event(
        agency_id=plan.agency_id,
        event_type="ari.changed",
        aggregate_type="rate_plan",
        aggregate_id=plan.id,
        payload={
            "property_id": str(plan.property_id),
            "rate_plan_id": str(plan.id),
            "start": span.check_in.isoformat(),
            "end": span.check_out.isoformat(),
        },
    )


async def recompute_property(
    session: AsyncSession, property_id: uuid.UUID, start: date, end: date
) -> None:
    # The property's plans, locked and reloaded in id order as `_lock` does, in one statement.
    plans = await session.execute(
        select(RatePlan)
        .where(RatePlan.property_id == property_id)
        .order_by(RatePlan.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    for plan in plans.scalars().all():
        await recompute(session, plan, start, end, locked=True)


def nights_taken(property_id: Any, start: Any, end: Any, request_id: Any) -> ColumnElement[int]:
    """A column for the statement that writes a stay the inventory guard admitted: its nights
    `[start, end)` close in every plan's ARI rows, each plan's changed span announced with
    ari.changed, after the property's plans are locked in id order (the function
    ``pms_nights_taken``, migration 0021, which says why it is a function). By the compile rule
    (available = not occupied and not closed) that is exactly what ``recompute_property``
    would write, without reading a rule or recompiling a row. PostgreSQL evaluates the column
    after the statement's data-modifying CTEs have written the stay; its value is the number of
    plans locked."""
    return func.pms_nights_taken(property_id, start, end, request_id, type_=Integer)


async def availability_changed(
    session: AsyncSession,
    agency_id: uuid.UUID,
    property_id: uuid.UUID,
    start: date,
    end: date,
) -> None:
    """Nights `[start, end)` of a property may have changed availability: announce it and bring
    every rate plan's ARI rows of those dates up to date, in the caller's transaction."""
    outbox.availability_changed(session, agency_id, property_id, start, end)
    await recompute_property(session, property_id, start, end)


async def initialise(session: AsyncSession, plan: RatePlan, timezone: str) -> None:
    """A new plan's window is today to 24 months ahead; compile and store all of it."""
    today = local_today(timezone)
    plan.ari_start, plan.ari_end = today, horizon_end(today)
    await session.flush()
    await recompute(session, plan, plan.ari_start, plan.ari_end)


async def roll_forward(session: AsyncSession, plan: RatePlan, today: date) -> Stay | None:
    """Move the plan's window to `[today, today + 24 months)`: compile the new dates at the
    end, drop the rows of days gone by."""
    (plan,) = await _lock(session, [plan.id])
    target = horizon_end(today)
    if today <= plan.ari_start and target <= plan.ari_end:
        return None
    old_end = plan.ari_end
    if today > plan.ari_start:
        await session.execute(
            delete(AriRow).where(AriRow.rate_plan_id == plan.id, AriRow.day < today)
        )
        plan.ari_start = today
    if target > plan.ari_end:
        plan.ari_end = target
    await session.flush()
    return await recompute(session, plan, max(old_end, plan.ari_start), plan.ari_end, locked=True)


async def roll_all_forward(now: datetime | None = None) -> int:
    """The scheduler's daily job: every plan of every agency, one short transaction each."""
    from pms.db import get_sessionmaker, set_tenant, system_access

    maker = get_sessionmaker()
    async with maker() as session, session.begin():
        await system_access(session)
        # Only the rate tables are readable across agencies; the property is read per agency.
        plans = (await session.execute(select(RatePlan.id, RatePlan.agency_id))).all()
    rolled = 0
    for plan_id, agency_id in plans:
        async with maker() as session, session.begin():
            await set_tenant(session, agency_id)
            row = (
                await session.execute(
                    select(RatePlan, Property.timezone)
                    .join(Property, Property.id == RatePlan.property_id)
                    .where(RatePlan.id == plan_id)
                )
            ).first()
            if row is None:
                continue
            plan, timezone = row
            today = local_today(timezone, now)
            if plan.ari_start < today or plan.ari_end < horizon_end(today):
                await roll_forward(session, plan, today)
                rolled += 1
    return rolled


async def read(
    session: AsyncSession,
    actor: Actor,
    property_id: uuid.UUID,
    start: date,
    end: date,
    rate_plan_id: uuid.UUID | None = None,
) -> s.Ari:
    """The stored rows of `[start, end)`, per rate plan of the property (default plan first)."""
    prop = await properties.get(session, actor, property_id)
    stmt = select(RatePlan).where(RatePlan.property_id == prop.id)
    if rate_plan_id is not None:
        stmt = stmt.where(RatePlan.id == rate_plan_id)
    plans = (
        (await session.execute(stmt.order_by(RatePlan.is_default.desc(), RatePlan.name)))
        .scalars()
        .all()
    )
    if rate_plan_id is not None and not plans:
        raise NotFound("Rate plan not found for this property.")
    rows = (
        (
            await session.execute(
                select(AriRow)
                .where(
                    AriRow.property_id == prop.id,
                    AriRow.rate_plan_id.in_([p.id for p in plans]),
                    AriRow.day >= start,
                    AriRow.day < end,
                )
                .order_by(AriRow.rate_plan_id, AriRow.day)
            )
        )
        .scalars()
        .all()
    )
    by_plan: dict[uuid.UUID, list[s.AriDayOut]] = {p.id: [] for p in plans}
    exponent = minor_unit_exponent(prop.currency)
    for r in rows:
        by_plan[r.rate_plan_id].append(
            s.AriDayOut(
                date=r.day,
                available=r.available,
                price=s.MoneyOut(
                    amount_minor=r.price_minor,
                    currency=prop.currency,
                    amount=f"{Decimal(r.price_minor).scaleb(-exponent):f}",
                ),
                min_stay=r.min_stay,
                min_stay_source=r.min_stay_source,
                max_stay=r.max_stay,
                closed_to_arrival=r.closed_to_arrival,
                closed_to_departure=r.closed_to_departure,
            )
        )
    return s.Ari(
        property_id=prop.id,
        currency=prop.currency,
        start=start,
        end=end,
        rate_plans=[
            s.AriPlan(rate_plan_id=p.id, name=p.name, is_default=p.is_default, days=by_plan[p.id])
            for p in plans
        ],
    )
