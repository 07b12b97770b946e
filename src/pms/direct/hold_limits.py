"""Limits on live public holds per client address, per guest e-mail and per property, so that
nobody takes a property's calendar off the market with a few requests. Counted in the
database, where the holds are (a lapsed or released hold stops counting at once), under
transaction-scoped advisory locks, so concurrent requests cannot both take the last place."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core.booking_status import BookingStatus
from pms.core.errors import TooManyRequests
from pms.core.tokens import token_hash
from pms.models.booking import Booking
from pms.settings import Settings


@dataclass(frozen=True)
class Holder:
    """Who asks for a hold: hashes of the client address and the e-mail (if given), scoped to
    the agency, so the stored values say nothing across agencies."""

    client_hash: str
    email_hash: str | None

    @classmethod
    def of(cls, agency_id: uuid.UUID, client_ip: str, email: str | None) -> Holder:
        return cls(
            token_hash(f"{agency_id}:ip:{client_ip}"),
            token_hash(f"{agency_id}:email:{email.strip().lower()}") if email else None,
        )


@dataclass(frozen=True)
class Limits:
    per_client: int
    per_email: int
    per_property: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            settings.public_active_holds_per_ip,
            settings.public_active_holds_per_email,
            settings.public_active_holds_per_property,
        )


class TooManyHolds(TooManyRequests):
    code = "too-many-holds"
    title = "Too many holds"


async def check(
    session: AsyncSession,
    agency_id: uuid.UUID,
    property_id: uuid.UUID,
    holder: Holder,
    limits: Limits,
) -> None:
    """Raise ``TooManyHolds`` (429, ``Retry-After`` = when the first counted hold lapses) if a
    new hold would pass a limit. Call inside the transaction that creates the hold."""
    keys = [f"hold:{agency_id}:client:{holder.client_hash}", f"hold:property:{property_id}"]
    if holder.email_hash is not None:
        keys.append(f"hold:{agency_id}:email:{holder.email_hash}")
    # Always in the same order, so two requests never wait on each other in a circle.
    for key in sorted(keys):
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    live = and_(
        Booking.agency_id == agency_id,
        Booking.status == BookingStatus.HOLD,
        Booking.hold_expires_at > func.now(),
    )
    by_client = Booking.hold_client_hash == holder.client_hash
    by_email = Booking.hold_email_hash == (holder.email_hash or "")
    by_property = Booking.property_id == property_id
    row = (
        await session.execute(
            select(
                func.now(),
                func.count().filter(by_client),
                func.min(Booking.hold_expires_at).filter(by_client),
                func.count().filter(by_email),
                func.min(Booking.hold_expires_at).filter(by_email),
                func.count().filter(by_property),
                func.min(Booking.hold_expires_at).filter(by_property),
            ).where(live)
        )
    ).one()
    now: datetime = row[0]
    checks = [
        ("this address", row[1], row[2], limits.per_client),
        ("this e-mail", row[3], row[4], limits.per_email),
        ("this property", row[5], row[6], limits.per_property),
    ]
    for what, count, first_lapse, limit in checks:
        if count >= limit and first_lapse is not None:
            wait = max(1, math.ceil((first_lapse - now).total_seconds()))
            raise TooManyHolds(
                f"{what.capitalize()} already has {count} dates on hold (at most {limit}); "
                f"complete or release one, or try again in {wait} seconds.",
                headers={"Retry-After": str(wait)},
            )
