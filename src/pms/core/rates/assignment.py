"""What pricing applies to a property: its tax class, visitor tax, cancellation policy and fees."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import audit, properties
from pms.core.errors import NotFound
from pms.core.rates.config import get_config
from pms.core.rates.writes import (
    M,
    invalid,
)
from pms.core.tenancy import Actor
from pms.models.property import Property
from pms.models.rates import (
    CancellationPolicy,
    Fee,
    PropertyFee,
    PropertyPricing,
    TaxClass,
    VisitorTaxLocation,
)
from pms.schemas import rates as s


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
        raise invalid("fee_ids", "a fee is listed twice")

    async def check(model: type[M], object_id: uuid.UUID | None, field: str) -> M | None:
        if object_id is None:
            return None
        try:
            return await get_config(session, actor, model, object_id, field)
        except NotFound:
            raise invalid(field, f"no such {field.removesuffix('_id')} in this agency") from None

    await check(TaxClass, data.accommodation_tax_class_id, "accommodation_tax_class_id")
    tax = await check(VisitorTaxLocation, data.visitor_tax_location_id, "visitor_tax_location_id")
    await check(CancellationPolicy, data.cancellation_policy_id, "cancellation_policy_id")
    if tax is not None and tax.currency != prop.currency:
        raise invalid("visitor_tax_location_id", f"in {tax.currency}, property in {prop.currency}")
    for fee_id in data.fee_ids:
        fee = await check(Fee, fee_id, "fee_ids")
        assert fee is not None
        if fee.currency != prop.currency:
            raise invalid("fee_ids", f"fee {fee.code} is in {fee.currency}, not {prop.currency}")
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
