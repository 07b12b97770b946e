"""Demo data that ``pms dev`` loads so a newcomer sees the system working (idempotent)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from pms import db
from pms.core import auth, guests, properties
from pms.core.permissions import Role
from pms.core.tenancy import Actor
from pms.schemas.guest import GuestCreate
from pms.schemas.property import PropertyCreate
from pms.settings import get_settings

DEMO_EMAIL = "demo@pms-webapp.dev"
DEMO_PASSWORD = "demo-password-123"

_PROPERTIES = [
    ("Seaside Loft", "Europe/Berlin", "Sylt", "DE", 4, 2),
    ("Alpine Chalet", "Europe/Vienna", "Kitzbühel", "AT", 8, 4),
    ("City Studio", "Europe/Berlin", "Berlin", "DE", 2, 1),
]
_GUESTS = [
    ("anna.berg@example.com", "Anna", "Berg", "de"),
    ("tom.lee@example.com", "Tom", "Lee", "en"),
]


async def _seed() -> list[str]:
    settings = get_settings()
    async with db.get_sessionmaker()() as session, session.begin():
        if await auth.find_user_by_email(session, DEMO_EMAIL):
            return ["demo data: already loaded"]
        user, agency, _ = await auth.signup(
            session,
            settings,
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            agency_name="Demo Holiday Homes",
        )
        actor = Actor(user.id, user.email, agency.id, Role.ADMIN)
        for name, tz, city, country, max_guests, bedrooms in _PROPERTIES:
            await properties.create(
                session,
                actor,
                PropertyCreate(
                    name=name,
                    timezone=tz,
                    currency="EUR",
                    max_guests=max_guests,
                    bedrooms=bedrooms,
                    city=city,
                    country=country,
                    is_listed=True,
                ),
            )
        for email, first, last, lang in _GUESTS:
            await guests.create(
                session,
                actor,
                GuestCreate(email=email, first_name=first, last_name=last, language=lang),
            )
    return [
        "demo data: agency 'Demo Holiday Homes' with 3 properties and 2 guests",
    ]


async def _run() -> list[str]:
    try:
        return await _seed()
    finally:
        await db.dispose_engine()


def seed_demo() -> Iterator[str]:
    yield from asyncio.run(_run())
    yield f"demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}  (POST /api/v1/auth/login)"
