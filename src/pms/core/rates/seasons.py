"""Seasons of a rate plan: dated price and stay-limit periods that may not overlap."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import ari, ari_store, audit
from pms.core.errors import NotFound
from pms.core.rates.plans import get_plan, weekday_prices_row
from pms.core.rates.writes import (
    apply,
    invalid,
    require_values,
    set_values,
)
from pms.core.tenancy import Actor
from pms.models.property import Property
from pms.models.rates import (
    SEASONS_EXCLUSION,
    RatePlan,
    RateSeason,
)
from pms.schemas import rates as s
from pms.schemas.dates import MAX_RULE_DAYS, range_error


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
            await apply(session, change)
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
    # Locked before the season is written (see `days.put_days`).
    plan, prop = await get_plan(session, actor, plan_id, lock=True)
    season = RateSeason(
        id=uuid.uuid4(),
        agency_id=plan.agency_id,
        rate_plan_id=plan.id,
        name=data.name,
        start=data.start,
        end=data.end,
        price_minor=data.price_minor,
        min_stay=data.min_stay,
        weekday_prices=weekday_prices_row(data.weekday_prices),
    )
    await _season_flush(session, season, data.start, data.end, lambda: session.add(season))
    await ari_store.recompute(session, plan, season.start, season.end, locked=True)
    await audit.created(session, actor, "rate_season", season)
    return season, prop


async def _get_season(
    session: AsyncSession, actor: Actor, plan_id: uuid.UUID, season_id: uuid.UUID
) -> tuple[RatePlan, Property, RateSeason]:
    # Locked before the season is changed or deleted (see `days.put_days`).
    plan, prop = await get_plan(session, actor, plan_id, lock=True)
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
        changes["weekday_prices"] = weekday_prices_row(changes["weekday_prices"])
    error = range_error(
        changes.get("start", season.start),
        changes.get("end", season.end),
        "start",
        MAX_RULE_DAYS,
        "days",
    )
    if error:
        raise invalid("end", error)
    before = audit.snapshot(season)
    old = (season.start, season.end)
    await _season_flush(
        session,
        season,
        changes.get("start", old[0]),
        changes.get("end", old[1]),
        lambda: set_values(season, changes),
    )
    await ari_store.recompute(session, plan, *old, locked=True)
    await ari_store.recompute(session, plan, season.start, season.end, locked=True)
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
    await ari_store.recompute(session, plan, season.start, season.end, locked=True)
    await audit.record(
        session,
        actor,
        agency_id=plan.agency_id,
        entity_type="rate_season",
        entity_id=season.id,
        action="deleted",
        before=before,
    )
