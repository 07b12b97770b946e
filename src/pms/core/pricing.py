"""Quoting stays from the stored ARI rows and a property's pricing (fees, VAT, visitor tax,
cancellation policy), and the quote a booking stores and is checked against."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import ari, ari_store, inventory, properties, quotes, rates
from pms.core.cancellation import CancellationPolicy, RefundRule
from pms.core.dates import Stay
from pms.core.errors import Conflict, NotFound
from pms.core.money import Money
from pms.core.restrictions import BookingWindow, Reason, Rule, rows_read_by
from pms.core.tenancy import Actor
from pms.models.property import Property
from pms.models.rates import CancellationPolicy as PolicyRow
from pms.models.rates import (
    Fee,
    PropertyFee,
    PropertyPricing,
    RatePlan,
    TaxClass,
    VisitorTaxLocation,
)
from pms.schemas import quote as q
from pms.schemas.rates import MoneyOut


def money(amount: Money) -> MoneyOut:
    return MoneyOut(
        amount_minor=amount.amount_minor,
        currency=amount.currency,
        amount=f"{amount.to_decimal():f}",
    )


async def property_pricing(
    session: AsyncSession, prop: Property, plan: RatePlan, *, extras: bool = True
) -> quotes.PropertyPricing:
    """Everything besides the ARI rows that prices a stay at `prop` under `plan`.
    ``extras=False`` says the caller knows the property has no pricing assignment and no
    fees: then no tax class can apply either, and nothing more is read."""
    if not extras:
        return build_pricing(prop, plan, None, (), ())
    # One round trip for the assignment with its visitor tax and policy, one for the agency's
    # tax classes, one for the fees: a quote is read far more often than anything else.
    assigned_row = (
        await session.execute(
            select(PropertyPricing, VisitorTaxLocation, PolicyRow)
            .outerjoin(
                VisitorTaxLocation,
                VisitorTaxLocation.id == PropertyPricing.visitor_tax_location_id,
            )
            .outerjoin(PolicyRow, PolicyRow.id == PropertyPricing.cancellation_policy_id)
            .where(PropertyPricing.property_id == prop.id)
        )
    ).first()
    tax_rows = (
        (await session.execute(select(TaxClass).where(TaxClass.agency_id == prop.agency_id)))
        .scalars()
        .all()
    )
    fee_rows = (
        (
            await session.execute(
                select(Fee)
                .join(PropertyFee, PropertyFee.fee_id == Fee.id)
                .where(PropertyFee.property_id == prop.id)
                .order_by(PropertyFee.position)
            )
        )
        .scalars()
        .all()
    )
    return build_pricing(prop, plan, assigned_row, tax_rows, fee_rows)


async def property_pricing_many(
    session: AsyncSession, pairs: Sequence[tuple[Property, RatePlan]]
) -> dict[uuid.UUID, quotes.PropertyPricing]:
    """`property_pricing` of many properties (each with its plan) in three statements, keyed
    by property id (feeds that describe every listing of an account at once)."""
    if not pairs:
        return {}
    ids = [prop.id for prop, _ in pairs]
    assigned = {
        row[0].property_id: row
        for row in (
            await session.execute(
                select(PropertyPricing, VisitorTaxLocation, PolicyRow)
                .outerjoin(
                    VisitorTaxLocation,
                    VisitorTaxLocation.id == PropertyPricing.visitor_tax_location_id,
                )
                .outerjoin(PolicyRow, PolicyRow.id == PropertyPricing.cancellation_policy_id)
                .where(PropertyPricing.property_id.in_(ids))
            )
        ).all()
    }
    agencies = {prop.agency_id for prop, _ in pairs}
    taxes: dict[uuid.UUID, list[TaxClass]] = {a: [] for a in agencies}
    for tax in (
        await session.execute(select(TaxClass).where(TaxClass.agency_id.in_(agencies)))
    ).scalars():
        taxes[tax.agency_id].append(tax)
    fees: dict[uuid.UUID, list[Fee]] = {i: [] for i in ids}
    for property_id, fee in (
        await session.execute(
            select(PropertyFee.property_id, Fee)
            .join(Fee, Fee.id == PropertyFee.fee_id)
            .where(PropertyFee.property_id.in_(ids))
            .order_by(PropertyFee.property_id, PropertyFee.position)
        )
    ).all():
        fees[property_id].append(fee)
    return {
        prop.id: build_pricing(
            prop, plan, assigned.get(prop.id), taxes[prop.agency_id], fees[prop.id]
        )
        for prop, plan in pairs
    }


class PricedProperty(Protocol):
    """What pricing reads of a property (an ORM row, or the columns a search loads)."""

    @property
    def currency(self) -> str: ...

    @property
    def max_guests(self) -> int: ...


class PricedPlan(Protocol):
    """What pricing reads of a rate plan."""

    @property
    def los_discounts(self) -> Sequence[Mapping[str, Any]]: ...

    @property
    def min_lead_days(self) -> int: ...

    @property
    def max_advance_days(self) -> int | None: ...


def build_pricing(
    prop: PricedProperty,
    plan: PricedPlan,
    assigned_row: Any,
    tax_rows: Sequence[TaxClass],
    fee_rows: Sequence[Fee],
) -> quotes.PropertyPricing:
    """The pricing from its loaded rows: `assigned_row` is (PropertyPricing, VisitorTaxLocation
    or None, CancellationPolicy row or None) or None; `tax_rows` the agency's tax classes and
    `fee_rows` the property's fees in order. Searches load these for many properties at once."""
    codes = {t.id: t.code for t in tax_rows}
    for fee in fee_rows:
        if fee.currency != prop.currency:
            raise Conflict(
                f"Fee {fee.code} is in {fee.currency} but the property prices in "
                f"{prop.currency}; reassign the property's fees.",
                conflict_type="currency_mismatch",
            )
    visitor_tax = None
    policy = None
    accommodation = None
    if assigned_row is not None:
        assigned, loc, row = assigned_row
        accommodation = (
            codes[assigned.accommodation_tax_class_id]
            if assigned.accommodation_tax_class_id
            else None
        )
        if loc is not None:
            if loc.currency != prop.currency:
                raise Conflict(
                    f"The visitor tax is in {loc.currency}, the property in {prop.currency}.",
                    conflict_type="currency_mismatch",
                )
            visitor_tax = quotes.VisitorTax(
                amount_minor=loc.amount_minor,
                child_age_limit=loc.child_age_limit,
                max_nights=loc.max_nights,
                label=loc.name,
            )
        if row is not None:
            policy = CancellationPolicy(
                [RefundRule(r["days_before"], Decimal(r["refund_percent"])) for r in row.rules],
                name=row.name,
            )
    return quotes.PropertyPricing(
        currency=prop.currency,
        max_guests=prop.max_guests,
        accommodation_tax_class=accommodation,
        tax_classes=[
            quotes.TaxClass(t.code, t.rate_percent, inclusive=t.inclusive, label=t.label)
            for t in tax_rows
        ],
        fees=[
            quotes.Fee(
                code=f.code,
                kind=quotes.FeeKind(f.kind),
                amount_minor=f.amount_minor,
                percent=f.percent,
                tax_class=codes[f.tax_class_id] if f.tax_class_id else None,
                guests_included=f.guests_included,
                label=f.label,
            )
            for f in fee_rows
        ],
        los_discounts=[
            quotes.LosDiscount(d["min_nights"], Decimal(d["percent"])) for d in plan.los_discounts
        ],
        visitor_tax=visitor_tax,
        booking_window=BookingWindow(plan.min_lead_days, plan.max_advance_days),
        cancellation=policy,
    )


async def plan_for(
    session: AsyncSession, prop: Property, rate_plan_id: uuid.UUID | None
) -> RatePlan | None:
    """The requested plan of the property, or its default (None if it has no plan)."""
    if rate_plan_id is None:
        return await rates.plans.default_plan(session, prop.id)
    plan = (
        await session.execute(
            select(RatePlan).where(RatePlan.id == rate_plan_id, RatePlan.property_id == prop.id)
        )
    ).scalar_one_or_none()
    if plan is None:
        raise NotFound("Rate plan not found for this property.")
    return plan


async def price(
    session: AsyncSession,
    prop: Property,
    plan: RatePlan,
    stay: Stay,
    guests: quotes.Guests,
    *,
    today: date | None = None,
    extras: bool = True,
    rows: Sequence[ari.AriDay] | None = None,
) -> quotes.Quote:
    """``rows``: the plan's stored rows of ``rows_read_by(stay)``, when the caller has read
    them already."""
    if rows is None:
        read = rows_read_by(stay)
        rows = await ari_store.stored_rows(session, plan.id, read.check_in, read.check_out)
    pricing = await property_pricing(session, prop, plan, extras=extras)
    return quotes.quote(
        pricing, rows, stay, guests, today=today or ari_store.local_today(prop.timezone)
    )


async def quote(session: AsyncSession, actor: Actor, data: q.QuoteRequest) -> q.Quote:
    prop = await properties.get(session, actor, data.property_id)
    plan = await plan_for(session, prop, data.rate_plan_id)
    if plan is None:
        raise NotFound("This property has no rate plan, so it cannot be quoted.")
    guests = quotes.Guests(data.adults, tuple(data.children_ages), data.pets)
    result = await price(session, prop, plan, Stay(data.check_in, data.check_out), guests)
    return to_schema(result, prop.id, plan.id)


def to_schema(result: quotes.Quote, property_id: uuid.UUID, plan_id: uuid.UUID) -> q.Quote:
    kinds = quotes.LineKind
    currency = result.currency
    taxes: list[q.TaxOut] = []
    for line in result.lines_of(kinds.VAT):
        base = Money.total(
            (x.amount for x in result.lines if x.tax_class == line.code and x.kind != kinds.VAT),
            currency,
        )
        taxes.append(
            q.TaxOut(
                tax_class=line.code,
                label=line.label,
                rate_percent=line.percent or Decimal(0),
                inclusive=False,
                base=money(base),
                amount=money(line.amount),
            )
        )
    for inc in result.vat_included:
        taxes.append(
            q.TaxOut(
                tax_class=inc.tax_class,
                label="",
                rate_percent=inc.rate_percent,
                inclusive=True,
                base=money(inc.gross),
                amount=money(inc.amount),
            )
        )
    return q.Quote(
        property_id=property_id,
        rate_plan_id=plan_id,
        check_in=result.stay.check_in,
        check_out=result.stay.check_out,
        nights=result.stay.nights,
        adults=result.guests.adults,
        children_ages=list(result.guests.children_ages),
        pets=result.guests.pets,
        currency=currency,
        lines=[
            q.QuoteLineOut(
                kind=line.kind.value,
                code=line.code,
                label=line.label,
                amount=money(line.amount),
                tax_class=line.tax_class,
                date=line.day,
                quantity=line.quantity,
                percent=line.percent,
            )
            for line in result.lines
        ],
        accommodation_subtotal=money(result.sum_of(kinds.NIGHT)),
        discount=money(result.sum_of(kinds.DISCOUNT)),
        fees=money(result.sum_of(kinds.FEE)),
        taxes=taxes,
        visitor_tax=money(result.sum_of(kinds.VISITOR_TAX)),
        total=money(result.total),
        cancellation=[
            q.RefundStepOut(
                first_day=step.first_day,
                last_day=step.last_day,
                refund_percent=step.refund_percent,
                refund=money(step.refund),
            )
            for step in result.cancellation
        ],
        bookable=result.bookable,
        reasons=[reason_schema(r) for r in result.reasons],
    )


def reason_schema(r: Reason) -> q.ReasonOut:
    return q.ReasonOut(
        rule=r.rule.value,
        message=r.detail,
        dates=list(r.dates),
        limit=r.limit,
        actual=r.actual,
        source=r.source.value if r.source else None,
    )


async def _not_occupancy(
    session: AsyncSession,
    property_id: uuid.UUID,
    stay: Stay,
    reasons: Sequence[Reason],
    exclude_booking: uuid.UUID | None,
) -> list[Reason]:
    """The reasons without nights taken by bookings, holds or blocks: those are the inventory
    guard's to refuse (a 409 naming the clash), so only closed or uncompiled nights stay."""
    if not any(reason.rule is Rule.UNAVAILABLE for reason in reasons):
        return list(reasons)
    ranges = await inventory.occupied(session, [property_id], stay.check_in, stay.check_out)
    taken = {
        day
        for r in ranges
        if exclude_booking is None or r.booking_id != exclude_booking
        for day in Stay(r.start, r.end).dates()
    }
    kept: list[Reason] = []
    for reason in reasons:
        if reason.rule is Rule.UNAVAILABLE:
            left = tuple(d for d in reason.dates if d not in taken)
            if not left:
                continue
            reason = Reason(
                Rule.UNAVAILABLE,
                "closed or not open for booking on " + ", ".join(d.isoformat() for d in left),
                dates=left,
            )
        kept.append(reason)
    return kept


async def booking_quote(
    session: AsyncSession,
    prop: Property,
    stay: Stay,
    guests: quotes.Guests,
    *,
    exclude_booking: uuid.UUID | None = None,
) -> tuple[q.Quote, list[Reason]] | None:
    """The default plan's quote for a booking and the restrictions it breaks (nights taken by
    other stays excepted); None when the property has no rate plan."""
    plan = await rates.plans.default_plan(session, prop.id)
    if plan is None:
        return None
    return await plan_quote(session, prop, plan, stay, guests, exclude_booking=exclude_booking)


async def plan_quote(
    session: AsyncSession,
    prop: Property,
    plan: RatePlan,
    stay: Stay,
    guests: quotes.Guests,
    *,
    exclude_booking: uuid.UUID | None = None,
    extras: bool = True,
    rows: Sequence[ari.AriDay] | None = None,
) -> tuple[q.Quote, list[Reason]]:
    """`booking_quote` with the plan (and whether the property has pricing extras, see
    `property_pricing`), and perhaps its stored rows (see `price`), already read by the caller."""
    result = await price(session, prop, plan, stay, guests, extras=extras, rows=rows)
    reasons = await _not_occupancy(session, prop.id, stay, result.reasons, exclude_booking)
    schema = to_schema(result, prop.id, plan.id)
    schema.reasons = [reason_schema(r) for r in reasons]
    schema.bookable = not reasons
    return schema, reasons
