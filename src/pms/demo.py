"""Demo data that ``pms dev`` loads so a newcomer sees the system working (idempotent)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from pms import db
from pms.core import auth, blocks, bookings, guests, properties
from pms.core.booking_status import BookingStatus
from pms.core.permissions import Role
from pms.core.tenancy import Actor
from pms.models.block import BlockKind
from pms.schemas.booking import BlockCreate, BookingCreate
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
# (property, guest, first night in days from today, nights, status)
_STAYS = [
    (0, 0, 3, 4, BookingStatus.CONFIRMED),
    (0, 1, 7, 3, BookingStatus.CONFIRMED),
    (1, 1, 10, 7, BookingStatus.REQUESTED),
    (2, 0, 1, 2, BookingStatus.CONFIRMED),
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
        props = [
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
            for name, tz, city, country, max_guests, bedrooms in _PROPERTIES
        ]
        demo_guests = [
            await guests.create(
                session,
                actor,
                GuestCreate(email=email, first_name=first, last_name=last, language=lang),
            )
            for email, first, last, lang in _GUESTS
        ]
        today = datetime.now(UTC).date()
        for p, g, offset, nights, status in _STAYS:
            start = today + timedelta(days=offset)
            await bookings.create(
                session,
                actor,
                BookingCreate(
                    property_id=props[p].id,
                    guest_id=demo_guests[g].id,
                    check_in=start,
                    check_out=start + timedelta(days=nights),
                    adults=2,
                    status=status,
                ),
            )
        await blocks.create(
            session,
            actor,
            BlockCreate(
                property_id=props[1].id,
                start=today + timedelta(days=20),
                end=today + timedelta(days=23),
                kind=BlockKind.MAINTENANCE,
                note="Sauna repair",
            ),
        )
    return [
        f"demo data: agency 'Demo Holiday Homes': {len(props)} properties, "
        f"{len(demo_guests)} guests, {len(_STAYS)} bookings, 1 block"
    ]


async def _run() -> list[str]:
    try:
        return await _seed()
    finally:
        await db.dispose_engine()


def seed_demo() -> Iterator[str]:
    yield from asyncio.run(_run())
    yield f"demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}  (POST /api/v1/auth/login)"
