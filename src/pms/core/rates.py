"""Rate plans, seasons and per-date overrides of a property, and the agency's fees, tax classes,
visitor-tax locations and cancellation policies with their assignment to properties.

Every change to what compiles into ARI rows recomputes exactly the affected dates (through
`core.ari_store`) in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from inspect import isawaitable
from typing import Any, TypeVar, cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import ari, ari_store, audit, cancellation, properties, quotes
from pms.core.dates import ONE_DAY, days
from pms.core.errors import Conflict, NotFound, Unprocessable
from pms.core.tenancy import Actor
from pms.models.base import Base
from pms.models.property import Property
from pms.models.rates import (
    SEASONS_EXCLUSION,
    CancellationPolicy,
    Fee,
    PropertyFee,
    PropertyPricing,
    RateDayOverride,
    RatePlan,
    RateSeason,
    TaxClass,
    VisitorTaxLocation,
)
from pms.schemas import rates as s
from pms.schemas.dates import MAX_RULE_DAYS, range_error

M = TypeVar("M", bound=Base)

FOREIGN_KEY_VIOLATION = "23503"
RESTRICT_VIOLATION = "23001"  # ON DELETE RESTRICT
UNIQUE_VIOLATION = "23505"
# Plan fields that compile into ARI rows: changing one recomputes the plan's whole window.
_COMPILED = {"base_price_minor", "default_min_stay", "default_max_stay", "weekday_prices"}


def _sqlstate(exc: IntegrityError) -> str | None:
    return getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)


async def _flush(session: AsyncSession, what: str, change: Callable[[], Any]) -> None:
    """Make `change` and flush it in a savepoint; a unique or foreign-key violation becomes a
    409 and leaves the transaction usable (lesson 3: constraint violations were 500s). The
    change must happen inside: opening the savepoint flushes whatever is pending outside it."""
    try:
        async with session.begin_nested():
            await _apply(session, change)
            await session.flush()
    except IntegrityError as exc:
        state = _sqlstate(exc)
        if state == UNIQUE_VIOLATION:
            raise Conflict(
                f"A {what} with this code already exists.", conflict_type="duplicate"
            ) from None
        if state in (FOREIGN_KEY_VIOLATION, RESTRICT_VIOLATION):
            raise Conflict(
                f"The {what} is in use; unassign it first.", conflict_type="in_use"
            ) from None
        raise


async def _apply(session: AsyncSession, change: Callable[[], Any]) -> None:
    result = change()
    if isawaitable(result):
        await result


def require_values(changes: dict[str, Any], fields: Sequence[str]) -> None:
    for name in fields:
        if name in changes and changes[name] is None:
            raise Unprocessable(
                f"{name} cannot be null.",
                errors=[{"field": name, "in": "body", "message": "cannot be null"}],
            )


def _set(row: Any, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        setattr(row, key, value)


def _invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors=[{"field": field, "in": "body", "message": message}])


# ---------------------------------------------------------------------------------------------
# Rate plans


def plan_schema(plan: RatePlan, currency: str) -> s.RatePlan:
    return s.RatePlan(
        id=plan.id,
        property_id=plan.property_id,
        name=plan.name,
        is_default=plan.is_default,
        currency=currency,
        base_price_minor=plan.base_price_minor,
        default_min_stay=plan.default_min_stay,
        default_max_stay=plan.default_max_stay,
        weekday_prices=ari_store.weekday_prices(plan.weekday_prices),
        los_discounts=[
            s.LosDiscountOut(min_nights=d["min_nights"], percent=Decimal(d["percent"]))
            for d in plan.los_discounts
        ],
        min_lead_days=plan.min_lead_days,
        max_advance_days=plan.max_advance_days,
        ari_start=plan.ari_start,
        ari_end=plan.ari_end,
        created_at=plan.created_at,
        updated_at=plan.updated_at,
    )


async def get_plan(
    session: AsyncSession, actor: Actor, plan_id: uuid.UUID, *, lock: bool = False
) -> tuple[RatePlan, Property]:
    """A plan of one of the actor's visible properties (another agency's: 404)."""
    stmt = (
        select(RatePlan, Property)
        .join(Property, Property.id == RatePlan.property_id)
        .where(
            RatePlan.id == plan_id,
            RatePlan.agency_id == actor.require_agency(),
            Property.deleted_at.is_(None),
        )
    )
    if lock:
        stmt = stmt.with_for_update(of=RatePlan)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound("Rate plan not found.")
    return row[0], row[1]


async def list_plans(
    session: AsyncSession, actor: Actor, property_id: uuid.UUID
) -> tuple[Property, list[RatePlan]]:
    prop = await properties.get(session, actor, property_id)
    plans = await session.execute(
        select(RatePlan)
        .where(RatePlan.property_id == prop.id)
        .order_by(RatePlan.is_default.desc(), RatePlan.name, RatePlan.id)
    )
    return prop, list(plans.scalars().all())


async def default_plan(session: AsyncSession, property_id: uuid.UUID) -> RatePlan | None:
    return (
        await session.execute(
            select(RatePlan).where(RatePlan.property_id == property_id, RatePlan.is_default)
        )
    ).scalar_one_or_none()


async def _clear_default(session: AsyncSession, property_id: uuid.UUID) -> None:
    await session.execute(
        update(RatePlan)
        .where(RatePlan.property_id == property_id, RatePlan.is_default)
        .values(is_default=False)
    )


def _los(discounts: Sequence[s.LosDiscountIn]) -> list[dict[str, Any]]:
    if len({d.min_nights for d in discounts}) != len(discounts):
        raise _invalid("los_discounts", "two discounts for the same min_nights")
    return [{"min_nights": d.min_nights, "percent": str(d.percent)} for d in discounts]


def _weekdays(prices: dict[int, int]) -> dict[str, int]:
    return {str(k): v for k, v in sorted(prices.items())}


async def create_plan(
    session: AsyncSession, actor: Actor, property_id: uuid.UUID, data: s.RatePlanCreate
) -> tuple[RatePlan, Property]:
    prop = await properties.get_for_update(session, actor, property_id)
    first = await default_plan(session, prop.id) is None
    is_default = first or bool(data.is_default)
    if is_default and not first:
        await _clear_default(session, prop.id)
    plan = RatePlan(
        id=uuid.uuid4(),
        agency_id=prop.agency_id,
        property_id=prop.id,
        name=data.name,
        is_default=is_default,
        base_price_minor=data.base_price_minor,
        default_min_stay=data.default_min_stay,
        default_max_stay=data.default_max_stay,
        weekday_prices=_weekdays(data.weekday_prices),
        los_discounts=_los(data.los_discounts),
        min_lead_days=data.min_lead_days,
        max_advance_days=data.max_advance_days,
        ari_start=date.min,
        ari_end=date.min,
    )
    session.add(plan)
    await ari_store.initialise(session, plan, prop.timezone)
    await session.refresh(plan)
    await audit.created(session, actor, "rate_plan", plan)
    return plan, prop


async def update_plan(
    session: AsyncSession, actor: Actor, plan_id: uuid.UUID, data: s.RatePlanUpdate
) -> tuple[RatePlan, Property]:
    plan, prop = await get_plan(session, actor, plan_id, lock=True)
    changes = data.model_dump(exclude_unset=True)
    require_values(
        changes,
        ["name", "is_default", "base_price_minor", "default_min_stay", "weekday_prices"],
    )
    require_values(changes, ["los_discounts", "min_lead_days"])
    if changes.get("is_default") is False and plan.is_default:
        raise _invalid("is_default", "make another plan the default instead")
    if "weekday_prices" in changes:
        changes["weekday_prices"] = _weekdays(changes["weekday_prices"])
    if "los_discounts" in changes:
        changes["los_discounts"] = _los(data.los_discounts or [])
    min_stay = changes.get("default_min_stay", plan.default_min_stay)
    max_stay = changes.get("default_max_stay", plan.default_max_stay)
    if max_stay is not None and max_stay < min_stay:
        raise _invalid("default_max_stay", "must be at least default_min_stay")
    lead = changes.get("min_lead_days", plan.min_lead_days)
    advance = changes.get("max_advance_days", plan.max_advance_days)
    if advance is not None and advance < lead:
        raise _invalid("max_advance_days", "must be at least min_lead_days")
    changes = {k: v for k, v in changes.items() if getattr(plan, k) != v}
    if not changes:
        return plan, prop
    before = audit.snapshot(plan)
    if changes.get("is_default"):
        await _clear_default(session, prop.id)
    for key, value in changes.items():
        setattr(plan, key, value)
    await session.flush()
    if _COMPILED & changes.keys():
        await ari_store.recompute(session, plan, plan.ari_start, plan.ari_end)
    await session.refresh(plan)
    await audit.record(
        session,
        actor,
        agency_id=plan.agency_id,
        entity_type="rate_plan",
        entity_id=plan.id,
        action="updated",
        before=before,
        after=audit.snapshot(plan),
    )
    return plan, prop


async def delete_plan(session: AsyncSession, actor: Actor, plan_id: uuid.UUID) -> None:
    plan, prop = await get_plan(session, actor, plan_id, lock=True)
    if plan.is_default:
        others = (
            await session.execute(
                select(RatePlan.id).where(RatePlan.property_id == prop.id, RatePlan.id != plan.id)
            )
        ).first()
        if others is not None:
            raise Conflict(
                "This is the default plan; make another plan the default first.",
                conflict_type="default_plan",
            )
    before = audit.snapshot(plan)
    await session.execute(delete(RatePlan).where(RatePlan.id == plan.id))
    await audit.record(
        session,
        actor,
        agency_id=prop.agency_id,
        entity_type="rate_plan",
        entity_id=plan.id,
        action="deleted",
        before=before,
    )


# ---------------------------------------------------------------------------------------------
# Seasons


def season_schema(season: RateSeason, currency: str) -> s.Season:
    return s.Season(
        id=season.id,
        rate_plan_id=season.rate_plan_id,
        name=season.name,
        start=season.start,
        end=season.end,
        price_minor=season.price_minor,
        currency=currency,
        min_stay=season.min_stay,
        weekday_prices=ari_store.weekday_prices(season.weekday_prices),
    )


async def list_seasons(
    session: AsyncSession, actor: Actor, plan_id: uuid.UUID
) -> tuple[Property, list[RateSeason]]:
    plan, prop = await get_plan(session, actor, plan_id)
    rows = await session.execute(
        select(RateSeason).where(RateSeason.rate_plan_id == plan.id).order_by(RateSeason.start)
    )
    return prop, list(rows.scalars().all())


async def _season_flush(
    session: AsyncSession, season: RateSeason, start: date, end: date, change: Callable[[], Any]
) -> None:
    # Read before the flush: a rolled-back savepoint expires the season's attributes.
    plan_id, season_id = season.rate_plan_id, season.id
    try:
        async with session.begin_nested():
            await _apply(session, change)
            await session.flush()
    except IntegrityError as exc:
        if SEASONS_EXCLUSION not in str(exc.orig):
            raise
        clash = (
            await session.execute(
                select(RateSeason)
                .where(
                    RateSeason.rate_plan_id == plan_id,
                    RateSeason.id != season_id,
                    RateSeason.start < end,
                    RateSeason.end > start,
                )
                .order_by(RateSeason.start)
                .limit(1)
            )
        ).scalar_one_or_none()
        raise ari.SeasonsOverlap(
            f"The season {start} to {end} overlaps another season of this plan"
            + (f" ({clash.start} to {clash.end})." if clash else "."),
            conflict_type="season_overlap",
            clash=(
                {
                    "id": str(clash.id),
                    "start": clash.start.isoformat(),
                    "end": clash.end.isoformat(),
                }
                if clash
                else None
            ),
        ) from None


async def create_season(
    session: AsyncSession, actor: Actor, plan_id: uuid.UUID, data: s.SeasonCreate
) -> tuple[RateSeason, Property]:
    plan, prop = await get_plan(session, actor, plan_id)
    season = RateSeason(
        id=uuid.uuid4(),
        agency_id=plan.agency_id,
        rate_plan_id=plan.id,
        name=data.name,
        start=data.start,
        end=data.end,
        price_minor=data.price_minor,
        min_stay=data.min_stay,
        weekday_prices=_weekdays(data.weekday_prices),
    )
    await _season_flush(session, season, data.start, data.end, lambda: session.add(season))
    await ari_store.recompute(session, plan, season.start, season.end)
    await audit.created(session, actor, "rate_season", season)
    return season, prop


async def _get_season(
    session: AsyncSession, actor: Actor, plan_id: uuid.UUID, season_id: uuid.UUID
) -> tuple[RatePlan, Property, RateSeason]:
    plan, prop = await get_plan(session, actor, plan_id)
    season = (
        await session.execute(
            select(RateSeason)
            .where(RateSeason.id == season_id, RateSeason.rate_plan_id == plan.id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if season is None:
        raise NotFound("Season not found.")
    return plan, prop, season


async def update_season(
    session: AsyncSession,
    actor: Actor,
    plan_id: uuid.UUID,
    season_id: uuid.UUID,
    data: s.SeasonUpdate,
) -> tuple[RateSeason, Property]:
    plan, prop, season = await _get_season(session, actor, plan_id, season_id)
    changes = data.model_dump(exclude_unset=True)
    require_values(changes, ["name", "start", "end", "price_minor", "weekday_prices"])
    if "weekday_prices" in changes:
        changes["weekday_prices"] = _weekdays(changes["weekday_prices"])
    error = range_error(
        changes.get("start", season.start),
        changes.get("end", season.end),
        "start",
        MAX_RULE_DAYS,
        "days",
    )
    if error:
        raise _invalid("end", error)
    before = audit.snapshot(season)
    old = (season.start, season.end)
    await _season_flush(
        session,
        season,
        changes.get("start", old[0]),
        changes.get("end", old[1]),
        lambda: _set(season, changes),
    )
    await ari_store.recompute(session, plan, *old)
    await ari_store.recompute(session, plan, season.start, season.end)
    await audit.record(
        session,
        actor,
        agency_id=plan.agency_id,
        entity_type="rate_season",
        entity_id=season.id,
        action="updated",
        before=before,
        after=audit.snapshot(season),
    )
    return season, prop


async def delete_season(
    session: AsyncSession, actor: Actor, plan_id: uuid.UUID, season_id: uuid.UUID
) -> None:
    plan, _, season = await _get_season(session, actor, plan_id, season_id)
    before = audit.snapshot(season)
    await session.execute(delete(RateSeason).where(RateSeason.id == season.id))
    await ari_store.recompute(session, plan, season.start, season.end)
    await audit.record(
        session,
        actor,
        agency_id=plan.agency_id,
        entity_type="rate_season",
        entity_id=season.id,
        action="deleted",
        before=before,
    )


# ---------------------------------------------------------------------------------------------
# Per-date overrides

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
    plan, _ = await get_plan(session, actor, plan_id)
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
        await ari_store.recompute(session, plan, min(changed), max(changed) + ONE_DAY)
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


# ---------------------------------------------------------------------------------------------
# Agency configuration: tax classes, fees, visitor-tax locations, cancellation policies


async def get_config(
    session: AsyncSession, actor: Actor, model: type[M], object_id: uuid.UUID, what: str
) -> M:
    row = (
        await session.execute(
            select(model).where(
                model.id == object_id,  # type: ignore[attr-defined]
                model.agency_id == actor.require_agency(),  # type: ignore[attr-defined]
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"{what.capitalize()} not found.")
    return row


async def list_config(session: AsyncSession, actor: Actor, model: type[M], order: Any) -> list[M]:
    rows = await session.execute(
        select(model)
        .where(model.agency_id == actor.require_agency())  # type: ignore[attr-defined]
        .order_by(order, model.id)  # type: ignore[attr-defined]
    )
    return list(rows.scalars().all())


async def _record(
    session: AsyncSession, actor: Actor, row: Any, entity: str, action: str, before: Any = None
) -> None:
    await audit.record(
        session,
        actor,
        agency_id=row.agency_id,
        entity_type=entity,
        entity_id=row.id,
        action=action,
        before=before,
        after=audit.snapshot(row) if action != "deleted" else None,
    )


async def create_config(session: AsyncSession, actor: Actor, row: M, entity: str, what: str) -> M:
    await _flush(session, what, lambda: session.add(row))
    await session.refresh(row)
    await _record(session, actor, row, entity, "created")
    return row


async def update_config(
    session: AsyncSession,
    actor: Actor,
    row: M,
    changes: dict[str, Any],
    entity: str,
    what: str,
) -> M:
    before = audit.snapshot(row)
    await _flush(session, what, lambda: _set(row, changes))
    await session.refresh(row)
    await _record(session, actor, row, entity, "updated", before)
    return row


async def delete_config(
    session: AsyncSession, actor: Actor, row: Base, entity: str, what: str
) -> None:
    before = audit.snapshot(row)
    await _flush(session, what, lambda: session.delete(row))
    await _record(session, actor, row, entity, "deleted", before)


async def _check_tax_class(session: AsyncSession, actor: Actor, tax_class_id: uuid.UUID) -> None:
    try:
        await get_config(session, actor, TaxClass, tax_class_id, "tax class")
    except NotFound:
        raise _invalid("tax_class_id", "no such tax class in this agency") from None


def _check_fee(values: dict[str, Any]) -> None:
    try:
        quotes.Fee(
            code=values["code"],
            kind=quotes.FeeKind(values["kind"]),
            amount_minor=values["amount_minor"],
            percent=values["percent"],
            guests_included=values["guests_included"],
        )
    except ValueError as exc:
        raise _invalid("kind", str(exc)) from None


async def create_fee(session: AsyncSession, actor: Actor, data: s.FeeCreate) -> Fee:
    values = data.model_dump()
    _check_fee(values)
    if data.tax_class_id is not None:
        await _check_tax_class(session, actor, data.tax_class_id)
    row = Fee(id=uuid.uuid4(), agency_id=actor.require_agency(), **values)
    return await create_config(session, actor, row, "fee", "fee")


async def update_fee(
    session: AsyncSession, actor: Actor, fee_id: uuid.UUID, data: s.FeeUpdate
) -> Fee:
    row = await get_config(session, actor, Fee, fee_id, "fee")
    changes = data.model_dump(exclude_unset=True)
    require_values(
        changes, ["code", "label", "kind", "currency", "amount_minor", "guests_included"]
    )
    merged = {c: changes.get(c, getattr(row, c)) for c in ("code", "kind", "amount_minor")}
    merged |= {c: changes.get(c, getattr(row, c)) for c in ("percent", "guests_included")}
    _check_fee(merged)
    if changes.get("tax_class_id") is not None:
        await _check_tax_class(session, actor, changes["tax_class_id"])
    if "currency" in changes and changes["currency"] != row.currency:
        used = (
            await session.execute(select(PropertyFee.fee_id).where(PropertyFee.fee_id == row.id))
        ).first()
        if used is not None:
            raise Conflict(
                "The fee is assigned to properties in its currency; unassign it first.",
                conflict_type="in_use",
            )
    return await update_config(session, actor, row, changes, "fee", "fee")


def policy_schema(row: CancellationPolicy) -> s.CancellationPolicy:
    return s.CancellationPolicy(
        id=row.id,
        name=row.name,
        rules=[
            s.RefundRuleOut(
                days_before=r["days_before"], refund_percent=Decimal(r["refund_percent"])
            )
            for r in row.rules
        ],
    )


def policy_rules(rules: Sequence[s.RefundRuleIn]) -> list[dict[str, Any]]:
    try:
        policy = cancellation.CancellationPolicy(
            [cancellation.RefundRule(r.days_before, r.refund_percent) for r in rules]
        )
    except ValueError as exc:
        raise _invalid("rules", str(exc)) from None
    return [
        {"days_before": r.days_before, "refund_percent": str(r.refund_percent)}
        for r in policy.rules
    ]


# ---------------------------------------------------------------------------------------------
# Assignment per property


async def get_pricing(
    session: AsyncSession, actor: Actor, property_id: uuid.UUID
) -> s.PropertyPricing:
    prop = await properties.get(session, actor, property_id)
    return await _pricing_schema(session, prop)


async def _pricing_schema(session: AsyncSession, prop: Property) -> s.PropertyPricing:
    row = await session.get(PropertyPricing, prop.id)
    fee_ids = (
        await session.execute(
            select(PropertyFee.fee_id)
            .where(PropertyFee.property_id == prop.id)
            .order_by(PropertyFee.position)
        )
    ).scalars()
    return s.PropertyPricing(
        property_id=prop.id,
        currency=prop.currency,
        accommodation_tax_class_id=row.accommodation_tax_class_id if row else None,
        visitor_tax_location_id=row.visitor_tax_location_id if row else None,
        cancellation_policy_id=row.cancellation_policy_id if row else None,
        fee_ids=list(fee_ids),
    )


async def put_pricing(
    session: AsyncSession, actor: Actor, property_id: uuid.UUID, data: s.PropertyPricingUpdate
) -> s.PropertyPricing:
    prop = await properties.get_for_update(session, actor, property_id)
    if len(set(data.fee_ids)) != len(data.fee_ids):
        raise _invalid("fee_ids", "a fee is listed twice")

    async def check(model: type[M], object_id: uuid.UUID | None, field: str) -> M | None:
        if object_id is None:
            return None
        try:
            return await get_config(session, actor, model, object_id, field)
        except NotFound:
            raise _invalid(field, f"no such {field.removesuffix('_id')} in this agency") from None

    await check(TaxClass, data.accommodation_tax_class_id, "accommodation_tax_class_id")
    tax = await check(VisitorTaxLocation, data.visitor_tax_location_id, "visitor_tax_location_id")
    await check(CancellationPolicy, data.cancellation_policy_id, "cancellation_policy_id")
    if tax is not None and tax.currency != prop.currency:
        raise _invalid("visitor_tax_location_id", f"in {tax.currency}, property in {prop.currency}")
    for fee_id in data.fee_ids:
        fee = await check(Fee, fee_id, "fee_ids")
        assert fee is not None
        if fee.currency != prop.currency:
            raise _invalid("fee_ids", f"fee {fee.code} is in {fee.currency}, not {prop.currency}")
    values = {
        "accommodation_tax_class_id": data.accommodation_tax_class_id,
        "visitor_tax_location_id": data.visitor_tax_location_id,
        "cancellation_policy_id": data.cancellation_policy_id,
    }
    stmt = insert(PropertyPricing).values(property_id=prop.id, agency_id=prop.agency_id, **values)
    await session.execute(
        stmt.on_conflict_do_update(index_elements=[PropertyPricing.property_id], set_=values)
    )
    await session.execute(delete(PropertyFee).where(PropertyFee.property_id == prop.id))
    if data.fee_ids:
        await session.execute(
            insert(PropertyFee).values(
                [
                    {
                        "property_id": prop.id,
                        "fee_id": fee_id,
                        "agency_id": prop.agency_id,
                        "position": i,
                    }
                    for i, fee_id in enumerate(data.fee_ids)
                ]
            )
        )
    await audit.record(
        session,
        actor,
        agency_id=prop.agency_id,
        entity_type="property_pricing",
        entity_id=prop.id,
        action="assigned",
        after=data.model_dump(mode="json"),
    )
    return await _pricing_schema(session, prop)


async def update_visitor_tax(
    session: AsyncSession, actor: Actor, tax_id: uuid.UUID, data: s.VisitorTaxUpdate
) -> VisitorTaxLocation:
    row = await get_config(session, actor, VisitorTaxLocation, tax_id, "visitor tax")
    changes = data.model_dump(exclude_unset=True)
    require_values(changes, ["name", "currency", "amount_minor", "child_age_limit"])
    if "currency" in changes and changes["currency"] != row.currency:
        used = (
            await session.execute(
                select(PropertyPricing.property_id).where(
                    PropertyPricing.visitor_tax_location_id == row.id
                )
            )
        ).first()
        if used is not None:
            raise Conflict(
                "The visitor tax is assigned to properties in its currency; unassign it first.",
                conflict_type="in_use",
            )
    return await update_config(session, actor, row, changes, "visitor_tax", "visitor tax")
