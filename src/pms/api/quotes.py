"""Quotes: the exact price of a stay, line by line, and whether it can be booked."""

from __future__ import annotations

from fastapi import APIRouter

from pms.api.deps import DB, RatesRead
from pms.api.idempotency import IdempotentRoute
from pms.core import pricing
from pms.schemas.quote import Quote, QuoteRequest

router = APIRouter(route_class=IdempotentRoute, prefix="/quotes", tags=["rates"])


@router.post(
    "",
    response_model=Quote,
    summary="Price a stay: nightly lines, discount, fees, VAT per class, visitor tax, total, "
    "refunds by date; `bookable` with a reason per broken rule",
    responses={404: {"description": "No such property, plan, or the property has no plan"}},
)
async def create_quote(body: QuoteRequest, session: DB, actor: RatesRead) -> Quote:
    """A quote is a read: nothing is stored, and it is priced from the stored daily ARI rows.
    A stay that cannot be booked is still priced, with one reason per rule it breaks."""
    return await pricing.quote(session, actor, body)
