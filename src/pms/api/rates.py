"""Rates: rate plans, seasons, per-date overrides, fees, tax classes, visitor tax, cancellation
policies, their assignment to properties, and the daily ARI rows."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from pms.api.deps import DB, RatesRead, RatesWrite
from pms.api.idempotency import IdempotentRoute
from pms.api.responses import Responses
from pms.core import ari_store, rates
from pms.models import rates as m
from pms.schemas import rates as s
from pms.schemas.dates import DateWindow

router = APIRouter(route_class=IdempotentRoute, tags=["rates"])
_404: Responses = {404: {"description": "Not found in this agency"}}
_409: Responses = {409: {"description": "Overlapping season, duplicate code, or still in use"}}
_NO_CONTENT = status.HTTP_204_NO_CONTENT


# Rate plans ------------------------------------------------------------------------------------


@router.get(
    "/properties/{property_id}/rate-plans",
    response_model=list[s.RatePlan],
    summary="A property's rate plans (default first)",
    responses=_404,
)
async def list_rate_plans(
    property_id: uuid.UUID, session: DB, actor: RatesRead
) -> list[s.RatePlan]:
    prop, plans = await rates.plans.list_plans(session, actor, property_id)
    return [rates.plans.plan_schema(p, prop.currency) for p in plans]


@router.post(
    "/properties/{property_id}/rate-plans",
    status_code=status.HTTP_201_CREATED,
    response_model=s.RatePlan,
    summary="Create a rate plan (its ARI rows are compiled 24 months ahead at once)",
    responses=_404,
)
async def create_rate_plan(
    property_id: uuid.UUID, body: s.RatePlanCreate, session: DB, actor: RatesWrite
) -> s.RatePlan:
    plan, prop = await rates.plans.create_plan(session, actor, property_id, body)
    return rates.plans.plan_schema(plan, prop.currency)


@router.get(
    "/rate-plans/{rate_plan_id}",
    response_model=s.RatePlan,
    summary="Get a rate plan",
    responses=_404,
)
async def get_rate_plan(rate_plan_id: uuid.UUID, session: DB, actor: RatesRead) -> s.RatePlan:
    plan, prop = await rates.plans.get_plan(session, actor, rate_plan_id)
    return rates.plans.plan_schema(plan, prop.currency)


@router.patch(
    "/rate-plans/{rate_plan_id}",
    response_model=s.RatePlan,
    summary="Change a rate plan (price changes recompute its ARI rows)",
    responses=_404,
)
async def update_rate_plan(
    rate_plan_id: uuid.UUID, body: s.RatePlanUpdate, session: DB, actor: RatesWrite
) -> s.RatePlan:
    plan, prop = await rates.plans.update_plan(session, actor, rate_plan_id, body)
    return rates.plans.plan_schema(plan, prop.currency)


@router.delete(
    "/rate-plans/{rate_plan_id}",
    status_code=_NO_CONTENT,
    summary="Delete a rate plan (the default only when it is the last)",
    responses={**_404, **_409},
)
async def delete_rate_plan(rate_plan_id: uuid.UUID, session: DB, actor: RatesWrite) -> Response:
    await rates.plans.delete_plan(session, actor, rate_plan_id)
    return Response(status_code=_NO_CONTENT)


# Seasons ---------------------------------------------------------------------------------------


@router.get(
    "/rate-plans/{rate_plan_id}/seasons",
    response_model=list[s.Season],
    summary="A plan's seasons, by start date",
    responses=_404,
)
async def list_seasons(rate_plan_id: uuid.UUID, session: DB, actor: RatesRead) -> list[s.Season]:
    prop, seasons = await rates.seasons.list_seasons(session, actor, rate_plan_id)
    return [rates.seasons.season_schema(x, prop.currency) for x in seasons]


@router.post(
    "/rate-plans/{rate_plan_id}/seasons",
    status_code=status.HTTP_201_CREATED,
    response_model=s.Season,
    summary="Add a season [start, end); overlapping another season of the plan is a 409",
    responses={**_404, **_409},
)
async def create_season(
    rate_plan_id: uuid.UUID, body: s.SeasonCreate, session: DB, actor: RatesWrite
) -> s.Season:
    season, prop = await rates.seasons.create_season(session, actor, rate_plan_id, body)
    return rates.seasons.season_schema(season, prop.currency)


@router.patch(
    "/rate-plans/{rate_plan_id}/seasons/{season_id}",
    response_model=s.Season,
    summary="Change a season (old and new dates are recomputed)",
    responses={**_404, **_409},
)
async def update_season(
    rate_plan_id: uuid.UUID,
    season_id: uuid.UUID,
    body: s.SeasonUpdate,
    session: DB,
    actor: RatesWrite,
) -> s.Season:
    season, prop = await rates.seasons.update_season(session, actor, rate_plan_id, season_id, body)
    return rates.seasons.season_schema(season, prop.currency)


@router.delete(
    "/rate-plans/{rate_plan_id}/seasons/{season_id}",
    status_code=_NO_CONTENT,
    summary="Delete a season",
    responses=_404,
)
async def delete_season(
    rate_plan_id: uuid.UUID, season_id: uuid.UUID, session: DB, actor: RatesWrite
) -> Response:
    await rates.seasons.delete_season(session, actor, rate_plan_id, season_id)
    return Response(status_code=_NO_CONTENT)


@router.put(
    "/rate-plans/{rate_plan_id}/days",
    response_model=s.DaysUpdated,
    summary="Per-date overrides in bulk: price, min/max stay, closed, closed to arrival/departure",
    responses=_404,
)
async def put_days(
    rate_plan_id: uuid.UUID, body: s.DaysUpdate, session: DB, actor: RatesWrite
) -> s.DaysUpdated:
    changed = await rates.days.put_days(session, actor, rate_plan_id, body)
    return s.DaysUpdated(rate_plan_id=rate_plan_id, days_changed=changed)


# ARI -------------------------------------------------------------------------------------------


@router.get(
    "/properties/{property_id}/ari",
    response_model=s.Ari,
    summary="The daily ARI rows of [start, end): availability, price, min/max stay, CTA, CTD",
    responses={**_404, 422: {"description": "Range over 366 days"}},
)
async def get_ari(
    property_id: uuid.UUID,
    window: Annotated[DateWindow, Query()],
    session: DB,
    actor: RatesRead,
    rate_plan_id: Annotated[uuid.UUID | None, Query(description="Only this plan")] = None,
) -> s.Ari:
    return await ari_store.read(session, actor, property_id, window.start, window.end, rate_plan_id)


# Property pricing assignment --------------------------------------------------------------------


@router.get(
    "/properties/{property_id}/pricing",
    response_model=s.PropertyPricing,
    summary="The fees, accommodation tax class, visitor tax and cancellation policy in use",
    responses=_404,
)
async def get_pricing(property_id: uuid.UUID, session: DB, actor: RatesRead) -> s.PropertyPricing:
    return await rates.assignment.get_pricing(session, actor, property_id)


@router.put(
    "/properties/{property_id}/pricing",
    response_model=s.PropertyPricing,
    summary="Assign fees, accommodation tax class, visitor tax and cancellation policy",
    responses={**_404, 422: {"description": "Unknown id or another currency"}},
)
async def put_pricing(
    property_id: uuid.UUID, body: s.PropertyPricingUpdate, session: DB, actor: RatesWrite
) -> s.PropertyPricing:
    return await rates.assignment.put_pricing(session, actor, property_id, body)


# Tax classes -----------------------------------------------------------------------------------


@router.get("/tax-classes", response_model=list[s.TaxClass], summary="The agency's VAT classes")
async def list_tax_classes(session: DB, actor: RatesRead) -> list[s.TaxClass]:
    rows = await rates.config.list_config(session, actor, m.TaxClass, m.TaxClass.code)
    return [s.TaxClass.model_validate(r) for r in rows]


@router.post(
    "/tax-classes",
    status_code=status.HTTP_201_CREATED,
    response_model=s.TaxClass,
    summary="Create a VAT class (inclusive or exclusive)",
    responses=_409,
)
async def create_tax_class(body: s.TaxClassCreate, session: DB, actor: RatesWrite) -> s.TaxClass:
    row = m.TaxClass(id=uuid.uuid4(), agency_id=actor.require_agency(), **body.model_dump())
    return s.TaxClass.model_validate(
        await rates.config.create_config(session, actor, row, "tax_class", "tax class")
    )


@router.get(
    "/tax-classes/{tax_class_id}",
    response_model=s.TaxClass,
    summary="Get a VAT class",
    responses=_404,
)
async def get_tax_class(tax_class_id: uuid.UUID, session: DB, actor: RatesRead) -> s.TaxClass:
    return s.TaxClass.model_validate(
        await rates.config.get_config(session, actor, m.TaxClass, tax_class_id, "tax class")
    )


@router.patch(
    "/tax-classes/{tax_class_id}",
    response_model=s.TaxClass,
    summary="Change a VAT class",
    responses={**_404, **_409},
)
async def update_tax_class(
    tax_class_id: uuid.UUID, body: s.TaxClassUpdate, session: DB, actor: RatesWrite
) -> s.TaxClass:
    row = await rates.config.get_config(session, actor, m.TaxClass, tax_class_id, "tax class")
    changes = body.model_dump(exclude_unset=True)
    rates.writes.require_values(changes, ["code", "label", "rate_percent", "inclusive"])
    return s.TaxClass.model_validate(
        await rates.config.update_config(session, actor, row, changes, "tax_class", "tax class")
    )


@router.delete(
    "/tax-classes/{tax_class_id}",
    status_code=_NO_CONTENT,
    summary="Delete a VAT class (409 while a fee or property uses it)",
    responses={**_404, **_409},
)
async def delete_tax_class(tax_class_id: uuid.UUID, session: DB, actor: RatesWrite) -> Response:
    row = await rates.config.get_config(session, actor, m.TaxClass, tax_class_id, "tax class")
    await rates.config.delete_config(session, actor, row, "tax_class", "tax class")
    return Response(status_code=_NO_CONTENT)


# Fees ------------------------------------------------------------------------------------------


@router.get("/fees", response_model=list[s.Fee], summary="The agency's fees")
async def list_fees(session: DB, actor: RatesRead) -> list[s.Fee]:
    rows = await rates.config.list_config(session, actor, m.Fee, m.Fee.code)
    return [s.Fee.model_validate(r) for r in rows]


@router.post(
    "/fees",
    status_code=status.HTTP_201_CREATED,
    response_model=s.Fee,
    summary="Create a fee: per stay, per night, per guest per night, per extra guest per "
    "night, per pet, or percent of the accommodation",
    responses=_409,
)
async def create_fee(body: s.FeeCreate, session: DB, actor: RatesWrite) -> s.Fee:
    return s.Fee.model_validate(await rates.fees.create_fee(session, actor, body))


@router.get("/fees/{fee_id}", response_model=s.Fee, summary="Get a fee", responses=_404)
async def get_fee(fee_id: uuid.UUID, session: DB, actor: RatesRead) -> s.Fee:
    return s.Fee.model_validate(await rates.config.get_config(session, actor, m.Fee, fee_id, "fee"))


@router.patch(
    "/fees/{fee_id}", response_model=s.Fee, summary="Change a fee", responses={**_404, **_409}
)
async def update_fee(fee_id: uuid.UUID, body: s.FeeUpdate, session: DB, actor: RatesWrite) -> s.Fee:
    return s.Fee.model_validate(await rates.fees.update_fee(session, actor, fee_id, body))


@router.delete(
    "/fees/{fee_id}",
    status_code=_NO_CONTENT,
    summary="Delete a fee (409 while assigned to a property)",
    responses={**_404, **_409},
)
async def delete_fee(fee_id: uuid.UUID, session: DB, actor: RatesWrite) -> Response:
    row = await rates.config.get_config(session, actor, m.Fee, fee_id, "fee")
    await rates.config.delete_config(session, actor, row, "fee", "fee")
    return Response(status_code=_NO_CONTENT)


# Visitor tax -----------------------------------------------------------------------------------


@router.get("/visitor-taxes", response_model=list[s.VisitorTax], summary="Visitor-tax locations")
async def list_visitor_taxes(session: DB, actor: RatesRead) -> list[s.VisitorTax]:
    rows = await rates.config.list_config(
        session, actor, m.VisitorTaxLocation, m.VisitorTaxLocation.name
    )
    return [s.VisitorTax.model_validate(r) for r in rows]


@router.post(
    "/visitor-taxes",
    status_code=status.HTTP_201_CREATED,
    response_model=s.VisitorTax,
    summary="Create a visitor-tax location (per person-night, child age limit, night cap)",
)
async def create_visitor_tax(
    body: s.VisitorTaxCreate, session: DB, actor: RatesWrite
) -> s.VisitorTax:
    row = m.VisitorTaxLocation(
        id=uuid.uuid4(), agency_id=actor.require_agency(), **body.model_dump()
    )
    return s.VisitorTax.model_validate(
        await rates.config.create_config(session, actor, row, "visitor_tax", "visitor tax")
    )


@router.get(
    "/visitor-taxes/{visitor_tax_id}",
    response_model=s.VisitorTax,
    summary="Get a visitor-tax location",
    responses=_404,
)
async def get_visitor_tax(visitor_tax_id: uuid.UUID, session: DB, actor: RatesRead) -> s.VisitorTax:
    row = await rates.config.get_config(
        session, actor, m.VisitorTaxLocation, visitor_tax_id, "visitor tax"
    )
    return s.VisitorTax.model_validate(row)


@router.patch(
    "/visitor-taxes/{visitor_tax_id}",
    response_model=s.VisitorTax,
    summary="Change a visitor-tax location",
    responses={**_404, **_409},
)
async def update_visitor_tax(
    visitor_tax_id: uuid.UUID, body: s.VisitorTaxUpdate, session: DB, actor: RatesWrite
) -> s.VisitorTax:
    return s.VisitorTax.model_validate(
        await rates.visitor_taxes.update_visitor_tax(session, actor, visitor_tax_id, body)
    )


@router.delete(
    "/visitor-taxes/{visitor_tax_id}",
    status_code=_NO_CONTENT,
    summary="Delete a visitor-tax location (409 while a property uses it)",
    responses={**_404, **_409},
)
async def delete_visitor_tax(visitor_tax_id: uuid.UUID, session: DB, actor: RatesWrite) -> Response:
    row = await rates.config.get_config(
        session, actor, m.VisitorTaxLocation, visitor_tax_id, "visitor tax"
    )
    await rates.config.delete_config(session, actor, row, "visitor_tax", "visitor tax")
    return Response(status_code=_NO_CONTENT)


# Cancellation policies -------------------------------------------------------------------------


@router.get(
    "/cancellation-policies",
    response_model=list[s.CancellationPolicy],
    summary="The agency's cancellation policies",
)
async def list_policies(session: DB, actor: RatesRead) -> list[s.CancellationPolicy]:
    rows = await rates.config.list_config(
        session, actor, m.CancellationPolicy, m.CancellationPolicy.name
    )
    return [rates.policies.policy_schema(r) for r in rows]


@router.post(
    "/cancellation-policies",
    status_code=status.HTTP_201_CREATED,
    response_model=s.CancellationPolicy,
    summary="Create a cancellation policy: (days before check-in, refund percent) rules",
)
async def create_policy(
    body: s.CancellationPolicyCreate, session: DB, actor: RatesWrite
) -> s.CancellationPolicy:
    row = m.CancellationPolicy(
        id=uuid.uuid4(),
        agency_id=actor.require_agency(),
        name=body.name,
        rules=rates.policies.policy_rules(body.rules),
    )
    return rates.policies.policy_schema(
        await rates.config.create_config(session, actor, row, "cancellation_policy", "policy")
    )


@router.get(
    "/cancellation-policies/{policy_id}",
    response_model=s.CancellationPolicy,
    summary="Get a cancellation policy",
    responses=_404,
)
async def get_policy(policy_id: uuid.UUID, session: DB, actor: RatesRead) -> s.CancellationPolicy:
    row = await rates.config.get_config(session, actor, m.CancellationPolicy, policy_id, "policy")
    return rates.policies.policy_schema(row)


@router.patch(
    "/cancellation-policies/{policy_id}",
    response_model=s.CancellationPolicy,
    summary="Change a cancellation policy",
    responses=_404,
)
async def update_policy(
    policy_id: uuid.UUID, body: s.CancellationPolicyUpdate, session: DB, actor: RatesWrite
) -> s.CancellationPolicy:
    row = await rates.config.get_config(session, actor, m.CancellationPolicy, policy_id, "policy")
    changes = body.model_dump(exclude_unset=True)
    rates.writes.require_values(changes, ["name", "rules"])
    if body.rules is not None:
        changes["rules"] = rates.policies.policy_rules(body.rules)
    return rates.policies.policy_schema(
        await rates.config.update_config(
            session, actor, row, changes, "cancellation_policy", "policy"
        )
    )


@router.delete(
    "/cancellation-policies/{policy_id}",
    status_code=_NO_CONTENT,
    summary="Delete a cancellation policy (409 while a property uses it)",
    responses={**_404, **_409},
)
async def delete_policy(policy_id: uuid.UUID, session: DB, actor: RatesWrite) -> Response:
    row = await rates.config.get_config(session, actor, m.CancellationPolicy, policy_id, "policy")
    # "The cancellation policy is in use; unassign it first." while a property uses it.
    await rates.config.delete_config(
        session, actor, row, "cancellation_policy", "cancellation policy"
    )
    return Response(status_code=_NO_CONTENT)
