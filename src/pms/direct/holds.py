"""Holds: a guest's dates kept for them while they check out; refused with the next free
dates when someone else has them."""

from __future__ import annotations

import secrets
import uuid
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import bookings, inventory
from pms.core.booking_status import BookingStatus
from pms.core.tenancy import Actor
from pms.core.tokens import token_hash
from pms.models.agency import Agency
from pms.models.booking import Booking, BookingSource
from pms.schemas.booking import BookingCreate
from pms.schemas.public import HoldRequest

SEARCH_DAYS = 365


async def next_free_window(
    session: AsyncSession, property_id: uuid.UUID, after: date, nights: int
) -> tuple[date, date] | None:
    """The first stay of ``nights`` nights starting on or after ``after`` that is free."""
    end = after + timedelta(days=SEARCH_DAYS + nights)
    ranges = await inventory.occupied(session, [property_id], after, end)
    cursor = after
    for r in ranges:
        if (r.start - cursor).days >= nights:
            return cursor, cursor + timedelta(days=nights)
        cursor = max(cursor, r.end)
    if (end - cursor).days >= nights:
        return cursor, cursor + timedelta(days=nights)
    return None


async def create(
    session: AsyncSession, agency: Agency, actor: Actor, data: HoldRequest
) -> tuple[Booking, str]:
    """Returns the hold and its token (only the token's hash is stored)."""
    token = secrets.token_urlsafe(24)
    try:
        booking, _ = await bookings.create(
            session,
            actor,
            BookingCreate(
                property_id=data.property_id,
                check_in=data.check_in,
                check_out=data.check_out,
                adults=data.adults,
                children=len(data.children_ages),
                # The ages price the visitor tax exactly as the guest's quote and search did.
                children_ages=list(data.children_ages),
                pets=data.pets,
                source=BookingSource.DIRECT,
                status=BookingStatus.HOLD,
            ),
            hold_minutes=agency.hold_minutes,
        )
    except inventory.InventoryConflict as exc:
        window = await next_free_window(
            session, data.property_id, data.check_in, (data.check_out - data.check_in).days
        )
        exc.extra["next_available"] = (
            {"check_in": window[0].isoformat(), "check_out": window[1].isoformat()}
            if window
            else None
        )
        if window:
            exc.detail += f" The next free dates are {window[0]} to {window[1]}."
        raise
    booking.hold_token_hash = token_hash(token)
    await session.flush()
    return booking, token
