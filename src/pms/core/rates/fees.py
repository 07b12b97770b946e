"""Fees: checked against the quote engine's rules and the tax classes they name."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import quotes
from pms.core.errors import Conflict, NotFound
from pms.core.rates.config import create_config, get_config, update_config
from pms.core.rates.writes import (
    invalid,
    require_values,
)
from pms.core.tenancy import Actor
from pms.models.rates import (
    Fee,
    PropertyFee,
    TaxClass,
)
from pms.schemas import rates as s


async def _check_tax_class(session: AsyncSession, actor: Actor, tax_class_id: uuid.UUID) -> None:
    try:
        await get_config(session, actor, TaxClass, tax_class_id, "tax class")
    except NotFound:
        raise invalid("tax_class_id", "no such tax class in this agency") from None


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
        raise invalid("kind", str(exc)) from None


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
