"""The payments of the agency's bookings, newest first (not for owners)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select

from pms.api.deps import DB, PaymentsRead
from pms.api.idempotency import IdempotentRoute
from pms.core.bookings.queries import visible
from pms.core.money import Money
from pms.core.pricing import money
from pms.models.booking import Booking
from pms.models.payment import Payment, PaymentStatus
from pms.schemas.common import Page, PageParams, page_params
from pms.schemas.payment import PaymentOut

router = APIRouter(prefix="/payments", route_class=IdempotentRoute, tags=["payments"])


@router.get("", response_model=Page[PaymentOut], summary="List payments, newest first")
async def list_payments(
    session: DB,
    actor: PaymentsRead,
    paging: Annotated[PageParams, Depends(page_params)],
    booking_id: uuid.UUID | None = None,
    status_: Annotated[
        list[PaymentStatus] | None, Query(alias="status", description="Repeat for several.")
    ] = None,
) -> Page[PaymentOut]:
    bookings = visible(actor).with_only_columns(Booking.id).subquery()
    stmt = (
        select(Payment, Booking.reference, Booking.property_id)
        .join(Booking, Booking.id == Payment.booking_id)
        .where(
            Payment.agency_id == actor.require_agency(), Payment.booking_id.in_(select(bookings))
        )
    )
    if booking_id is not None:
        stmt = stmt.where(Payment.booking_id == booking_id)
    if status_:
        stmt = stmt.where(Payment.status.in_(status_))
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        await session.execute(
            stmt.order_by(Payment.created_at.desc(), Payment.id.desc())
            .limit(paging.limit)
            .offset(paging.offset)
        )
    ).all()
    items = [
        PaymentOut(
            id=p.id,
            booking_id=p.booking_id,
            booking_reference=reference,
            property_id=property_id,
            provider=p.provider,
            method=p.method,
            status=p.status,
            amount=money(Money(p.amount_minor, p.currency)),
            refunded=money(Money(p.refunded_minor, p.currency)),
            failure_reason=p.failure_reason,
            created_at=p.created_at,
            succeeded_at=p.succeeded_at,
            refunded_at=p.refunded_at,
        )
        for p, reference, property_id in rows
    ]
    return Page[PaymentOut](items=items, total=int(total), limit=paging.limit, offset=paging.offset)
