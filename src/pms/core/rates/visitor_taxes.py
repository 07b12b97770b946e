"""Visitor-tax locations: a change of currency waits until no property uses one."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core.errors import Conflict
from pms.core.rates.config import get_config, update_config
from pms.core.rates.writes import (
    require_values,
)
from pms.core.tenancy import Actor
from pms.models.rates import (
    PropertyPricing,
    VisitorTaxLocation,
)
from pms.schemas import rates as s


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
