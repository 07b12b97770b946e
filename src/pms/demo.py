"""Demo data that ``pms dev`` loads so a newcomer sees the system working (idempotent)."""

from __future__ import annotations

import asyncio
import base64
import hmac
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from pms import db
from pms.core import auth, blocks, bookings, guests, properties, rates
from pms.core.ari_store import local_today
from pms.core.booking_status import BookingStatus
from pms.core.permissions import Role
from pms.core.quotes import FeeKind
from pms.core.tenancy import Actor
from pms.models import rates as m
from pms.models.block import BlockKind
from pms.schemas import rates as r
from pms.schemas.booking import BlockCreate, BookingCreate
from pms.schemas.guest import GuestCreate
from pms.schemas.property import PropertyCreate
from pms.settings import get_settings

DEMO_EMAIL = "demo@pms-webapp.dev"
DEMO_PASSWORD = "demo-password-123"

# name, zone, city, country, max guests, bedrooms, nightly price, summer price (minor units),
# instant book (False: guests of the booking engine send a request, paid by card on approval)
_PROPERTIES = [
    ("Seaside Loft", "Europe/Berlin", "Sylt", "DE", 4, 2, 14000, 19000, True),
    ("Alpine Chalet", "Europe/Vienna", "Kitzbühel", "AT", 8, 4, 26000, 22000, False),
    ("City Studio", "Europe/Berlin", "Berlin", "DE", 2, 1, 8500, 9500, True),
]
_FRI, _SAT = 4, 5
# (property, guest, first night in days from today, nights, status)
_STAYS = [
    (0, 0, 3, 4, BookingStatus.CONFIRMED),
    (0, 1, 7, 3, BookingStatus.CONFIRMED),
    (1, 1, 10, 7, BookingStatus.REQUESTED),
    (2, 0, 1, 2, BookingStatus.CONFIRMED),
    (2, 1, 40, 3, BookingStatus.CONFIRMED),  # cancelled below
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
        pricing = await _pricing(session, actor)
        props = []
        for name, tz, city, country, max_guests, bedrooms, price, summer, instant in _PROPERTIES:
            prop = await properties.create(
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
                    instant_book=instant,
                ),
            )
            await _rates(session, actor, prop.id, local_today(tz), price, summer, pricing)
            props.append(prop)
        demo_guests = [
            await guests.create(
                session,
                actor,
                GuestCreate(email=email, first_name=first, last_name=last, language=lang),
            )
            for email, first, last, lang in _GUESTS
        ]
        today = datetime.now(UTC).date()
        made = []
        for p, g, offset, nights, status in _STAYS:
            start = today + timedelta(days=offset)
            booking, _ = await bookings.create(
                session,
                actor,
                BookingCreate(
                    property_id=props[p].id,
                    guest_id=demo_guests[g].id,
                    check_in=start,
                    check_out=start + timedelta(days=nights),
                    adults=2,
                    status=status,
                    override_restrictions=True,
                ),
            )
            made.append(booking)
        # One guest called off: cancelled with the refund the policy gives (see its `refund`).
        cancelled = await bookings.cancel(session, actor, made[-1].id)
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
        f"demo data: agency 'Demo Holiday Homes': {len(props)} priced properties, "
        f"{len(demo_guests)} guests, {len(_STAYS)} bookings (one cancelled with a refund of "
        f"{cancelled.refund.amount_minor if cancelled.refund else 0} minor units), 1 block; "
        f"'{_PROPERTIES[1][0]}' takes requests (card authorised, captured on approval)",
        *await _ical_export(),
    ]


async def _pricing(session: AsyncSession, actor: Actor) -> r.PropertyPricingUpdate:
    """VAT classes (accommodation 7 %, services 19 %), a cleaning fee, Sylt's visitor tax and
    a flexible cancellation policy, shared by the demo properties."""
    reduced = await rates.config.create_config(
        session,
        actor,
        m.TaxClass(
            agency_id=actor.agency_id, code="VAT7", label="VAT 7 %", rate_percent=Decimal(7)
        ),
        "tax_class",
        "tax class",
    )
    standard = await rates.config.create_config(
        session,
        actor,
        m.TaxClass(
            agency_id=actor.agency_id, code="VAT19", label="VAT 19 %", rate_percent=Decimal(19)
        ),
        "tax_class",
        "tax class",
    )
    cleaning = await rates.fees.create_fee(
        session,
        actor,
        r.FeeCreate(
            code="cleaning",
            label="Final cleaning",
            kind=FeeKind.PER_STAY,
            currency="EUR",
            amount_minor=6500,
            tax_class_id=standard.id,
        ),
    )
    visitor_tax = await rates.config.create_config(
        session,
        actor,
        m.VisitorTaxLocation(
            agency_id=actor.agency_id,
            name="Kurtaxe",
            currency="EUR",
            amount_minor=350,
            child_age_limit=16,
            max_nights=21,
        ),
        "visitor_tax",
        "visitor tax",
    )
    policy = await rates.config.create_config(
        session,
        actor,
        m.CancellationPolicy(
            agency_id=actor.agency_id,
            name="Flexible",
            rules=rates.policies.policy_rules(
                [
                    r.RefundRuleIn(days_before=30, refund_percent=Decimal(100)),
                    r.RefundRuleIn(days_before=14, refund_percent=Decimal(50)),
                ]
            ),
        ),
        "cancellation_policy",
        "policy",
    )
    return r.PropertyPricingUpdate(
        accommodation_tax_class_id=reduced.id,
        visitor_tax_location_id=visitor_tax.id,
        cancellation_policy_id=policy.id,
        fee_ids=[cleaning.id],
    )


async def _rates(
    session: AsyncSession,
    actor: Actor,
    property_id: uuid.UUID,
    today: date,
    price: int,
    summer: int,
    pricing: r.PropertyPricingUpdate,
) -> None:
    """A default plan with weekend prices, a week-long discount and next summer's season."""
    weekend = price * 6 // 5
    plan, _ = await rates.plans.create_plan(
        session,
        actor,
        property_id,
        r.RatePlanCreate(
            name="Standard",
            base_price_minor=price,
            default_min_stay=2,
            weekday_prices={_FRI: weekend, _SAT: weekend},
            los_discounts=[r.LosDiscountIn(min_nights=7, percent=Decimal(10))],
            min_lead_days=1,
            max_advance_days=540,
        ),
    )
    year = today.year + 1 if today >= date(today.year, 6, 1) else today.year
    await rates.seasons.create_season(
        session,
        actor,
        plan.id,
        r.SeasonCreate(
            name="Summer",
            start=date(year, 6, 15),
            end=date(year, 9, 15),
            price_minor=summer,
            min_stay=5,
            weekday_prices={_SAT: summer * 6 // 5},
        ),
    )
    await rates.assignment.put_pricing(session, actor, property_id, pricing)


async def _ical_export() -> list[str]:
    """An iCal export URL for the first demo property. Only token hashes are stored, so the demo
    token is derived from SECRET_KEY and can be printed again on every start."""
    from sqlalchemy import select

    from pms.channel.ical import exports
    from pms.core.tokens import token_hash
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
            select(IcalExport.id).where(IcalExport.token_hash == token_hash(token))
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
