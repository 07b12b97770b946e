"""Demo data that ``pms dev`` loads so a newcomer sees the system working (idempotent)."""

from __future__ import annotations

import asyncio
import base64
import hmac
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
            return ["demo data: already loaded", *await _ical_export()]
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
        *await _ical_export(),
    ]


async def _ical_export() -> list[str]:
    """An iCal export URL for the first demo property. Only token hashes are stored, so the demo
    token is derived from SECRET_KEY and can be printed again on every start."""
    from sqlalchemy import select

    from pms.channel.ical import exports
    from pms.core.secretbox import fingerprint
    from pms.models.ical import IcalExport
    from pms.models.property import Property

    settings = get_settings()
    key = settings.secret_key.get_secret_value().encode()
    token = base64.urlsafe_b64encode(hmac.digest(key, b"demo-ical-export", "sha256")[:24]).decode()
    async with db.get_sessionmaker()() as session, session.begin():
        user = await auth.find_user_by_email(session, DEMO_EMAIL)
        if user is None:
            return []
        actor = await auth.resolve_actor(session, user, None)
        prop = (
            await session.execute(
                properties.visible(actor).where(Property.name == _PROPERTIES[0][0])
            )
        ).scalar_one_or_none()
        if prop is None:
            return []
        existing = await session.execute(
            select(IcalExport.id).where(IcalExport.token_hash == fingerprint(token))
        )
        if existing.first() is None:
            await exports.create(
                session, actor, prop.id, exclude_source=None, include_holds=False, token=token
            )
    url = settings.public_base_url.rstrip("/") + exports.feed_path(token)
    return [f"iCal export of '{prop.name}' (paste into Airbnb, Booking.com, Vrbo): {url}"]


async def _run() -> list[str]:
    try:
        return await _seed()
    finally:
        await db.dispose_engine()


def seed_demo() -> Iterator[str]:
    yield from asyncio.run(_run())
    yield f"demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}  (POST /api/v1/auth/login)"
