"""Rate plans of a property (one default): base and weekday prices, stay limits, discounts, booking
window; changing what compiles into ARI rows recomputes them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import ari_store, audit, properties
from pms.core.errors import Conflict, NotFound
from pms.core.rates.writes import (
    invalid,
    require_values,
)
from pms.core.tenancy import Actor
from pms.models.property import Property
from pms.models.rates import (
    RatePlan,
)
from pms.schemas import rates as s

# Plan fields that compile into ARI rows: changing one recomputes the plan's whole window.
_COMPILED = {"base_price_minor", "default_min_stay", "default_max_stay", "weekday_prices"}


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


def _get_plan_statement(lock: bool) -> Select[RatePlan, Property]:
    stmt = (
        select(RatePlan, Property)
        .join(Property, Property.id == RatePlan.property_id)
        .where(
            RatePlan.id == bindparam("gp_plan", type_=PG_UUID(as_uuid=True)),
            RatePlan.agency_id == bindparam("gp_agency", type_=PG_UUID(as_uuid=True)),
            Property.deleted_at.is_(None),
        )
    )
    return stmt.with_for_update(of=RatePlan) if lock else stmt


# Built once (every rate write starts here): unlocked and locked.
_GET_PLAN = {lock: _get_plan_statement(lock) for lock in (False, True)}


async def get_plan(
    session: AsyncSession, actor: Actor, plan_id: uuid.UUID, *, lock: bool = False
) -> tuple[RatePlan, Property]:
    """A plan of one of the actor's visible properties (another agency's: 404)."""
    row = (
        await session.execute(
            _GET_PLAN[lock], {"gp_plan": plan_id, "gp_agency": actor.require_agency()}
        )
    ).first()
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
        raise invalid("los_discounts", "two discounts for the same min_nights")
    return [{"min_nights": d.min_nights, "percent": str(d.percent)} for d in discounts]


def weekday_prices_row(prices: dict[int, int]) -> dict[str, int]:
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
        weekday_prices=weekday_prices_row(data.weekday_prices),
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
        raise invalid("is_default", "make another plan the default instead")
    if "weekday_prices" in changes:
        changes["weekday_prices"] = weekday_prices_row(changes["weekday_prices"])
    if "los_discounts" in changes:
        changes["los_discounts"] = _los(data.los_discounts or [])
    min_stay = changes.get("default_min_stay", plan.default_min_stay)
    max_stay = changes.get("default_max_stay", plan.default_max_stay)
    if max_stay is not None and max_stay < min_stay:
        raise invalid("default_max_stay", "must be at least default_min_stay")
    lead = changes.get("min_lead_days", plan.min_lead_days)
    advance = changes.get("max_advance_days", plan.max_advance_days)
    if advance is not None and advance < lead:
        raise invalid("max_advance_days", "must be at least min_lead_days")
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
