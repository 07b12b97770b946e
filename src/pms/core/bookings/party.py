"""Who stays: the booking's guest record (by id or found by e-mail) and the party's size
against the property's capacity."""

from __future__ import annotations

import uuid

from sqlalchemy import (
    func,
    text,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import (
    guests,
)
from pms.core.errors import Unprocessable
from pms.core.quotes import Guests
from pms.core.tenancy import Actor
from pms.models.guest import Guest
from pms.models.property import Property
from pms.schemas.booking import GuestInline


def usable_guest(guest: Guest) -> Guest:
    if guest.erased_at is not None:
        raise Unprocessable(
            "This guest was erased.",
            errors=[{"field": "guest_id", "in": "body", "message": "guest erased"}],
        )
    return guest


async def guest_for(
    session: AsyncSession, actor: Actor, guest_id: uuid.UUID | None, inline: GuestInline | None
) -> Guest:
    if guest_id is not None:
        return usable_guest(await guests.get(session, actor, guest_id))
    if inline is None:
        raise Unprocessable("A guest is required.")
    return await inline_guest(session, actor.require_agency(), inline)


async def inline_guest(session: AsyncSession, agency_id: uuid.UUID, inline: GuestInline) -> Guest:
    email = inline.email.lower()
    # Find or create by e-mail; ON CONFLICT makes two concurrent bookings share one guest.
    await session.execute(
        insert(Guest)
        .values(
            id=uuid.uuid4(),
            agency_id=agency_id,
            email=email,
            first_name=inline.first_name,
            last_name=inline.last_name,
            phone=inline.phone,
            language=inline.language,
        )
        .on_conflict_do_nothing(
            index_elements=[Guest.agency_id, func.lower(Guest.email)],
            index_where=text("email IS NOT NULL"),
        )
    )
    found = await guests.find_by_email(session, agency_id, email)
    assert found is not None
    return found


def check_capacity(prop: Property, adults: int, children: int) -> None:
    # Infants sleep in a cot and do not count against max_guests (as on the channels).
    if adults + children > prop.max_guests:
        raise Unprocessable(
            f"{adults + children} guests exceed this property's maximum of {prop.max_guests}.",
            errors=[{"field": "adults", "in": "body", "message": "max_guests exceeded"}],
            rule="max_guests",
        )


# Children of unknown age count as paying visitor tax (the oldest a child can be).
_UNKNOWN_CHILD_AGE = 17


def party_of(adults: int, children: int, pets: int, ages: list[int] | None = None) -> Guests:
    return Guests(
        adults, tuple(ages if ages is not None else [_UNKNOWN_CHILD_AGE] * children), pets
    )
