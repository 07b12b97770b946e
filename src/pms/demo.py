"""Demo data that ``pms dev`` loads so a newcomer sees the system working (idempotent)."""

from __future__ import annotations

import asyncio
import base64
import hmac
import struct
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from pms import db
from pms.core import auth, blocks, bookings, guests, photos, properties, rates
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
# Street and postal code: what Google Vacation Rentals require besides the name, position and
# capacity (the City Studio has none, so the Google list feed warns about it).
_ADDRESSES = {
    "Seaside Loft": ("Strandstraße 12", "25980"),
    "Alpine Chalet": ("Hahnenkammstraße 3", "6370"),
}
# What the guests' booking site shows of each: description, map position, amenities, photo colours.
_LISTINGS = [
    (
        "A bright loft two minutes from the beach, with a balcony facing the dunes.",
        ("54.9079", "8.3105"),
        ["wifi", "balcony", "washer", "sea_view"],
        [(40, 110, 170), (230, 200, 150), (90, 150, 200)],
    ),
    (
        "A timber chalet above the village: sauna, fireplace and the slopes at the door.",
        ("47.4467", "12.3914"),
        ["wifi", "sauna", "heating", "parking", "bbq"],
        [(120, 80, 50), (200, 220, 235), (60, 100, 60)],
    ),
    (
        "A quiet studio in a courtyard in Prenzlauer Berg, close to the tram.",
        ("52.5389", "13.4244"),
        ["wifi", "kitchen", "workspace"],
        [(180, 180, 190), (220, 120, 90), (70, 70, 90)],
    ),
]
_FRI, _SAT = 4, 5


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A small PNG: a vertical gradient from the colour to white (demo photos, no files)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b""
    for y in range(height):
        f = y / (height - 1)
        px = bytes(int(c + (255 - c) * f * 0.6) for c in rgb)
        rows += b"\x00" + px * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


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

if TYPE_CHECKING:
    from pms.channel.adapters.base import Grant
    from pms.models.channel import MarkupKind


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
        for i, (name, tz, city, country, max_guests, bedrooms, price, summer, instant) in enumerate(
            _PROPERTIES
        ):
            text, (lat, lng), amenities, colours = _LISTINGS[i]
            street, postal_code = _ADDRESSES.get(name, (None, None))
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
                    address_line1=street,
                    postal_code=postal_code,
                    is_listed=True,
                    instant_book=instant,
                    description=text,
                    latitude=Decimal(lat),
                    longitude=Decimal(lng),
                    amenities=amenities,
                    bathrooms=Decimal(1),
                ),
            )
            for n, colour in enumerate(colours, start=1):
                await photos.add(session, actor, prop.id, _png(480, 320, colour), f"{name} {n}")
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
        f"guests' booking site: {settings.booking_site_url}/{agency.slug}",
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
        actor = await auth.resolve_actor(session, auth.Identity.of(user), None)
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


# The demo agency's Airbnb account in the sandbox: its host and which listing shows which
# demo property (by index in _PROPERTIES).
DEMO_AIRBNB_CODE = "code-host-1001"
_DEMO_LISTINGS = {"50001": 0, "50002": 2}


# The demo agency on Booking.com (a hotel of our sandbox machine account) and Expedia (an EQC
# hotel): one room rate each, both showing the second demo property.
DEMO_BOOKING_HOTEL = "9000001"
DEMO_BOOKING_LISTING = "9000001/900000101/55500001"
DEMO_EXPEDIA = {"username": "EQCsandbox", "password": "eqc-pass", "hotel_id": "12933870"}
DEMO_EXPEDIA_LISTING = "12933870/201357986/206651831A"


async def connect_airbnb(sandbox_url: str, webhook_url: str) -> list[str]:
    """Connect the demo agency to the Airbnb simulator and map two properties (idempotent).
    The sandbox keeps its state in memory, so every start exchanges the code again, stores the
    new tokens and asks for a full sync of the mapped listings."""
    import httpx

    from pms.channel.adapters.airbnb import AirbnbAdapter

    settings = get_settings()
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.put(f"{sandbox_url}/control/airbnb/webhook", json={"url": webhook_url})
        r.raise_for_status()
    adapter = AirbnbAdapter(settings)
    grant = await adapter.exchange_code(DEMO_AIRBNB_CODE)
    listings = [x.id for x in await adapter.list_listings(grant.credentials)]
    mapped = await _connect(
        "airbnb", "Airbnb (sandbox host 1001)", grant, listings, _DEMO_LISTINGS, markup=1500
    )
    if not mapped:
        return []
    return [
        f"Airbnb (sandbox host 1001) connected: listings {', '.join(mapped)}; book one as a "
        f"guest: POST {sandbox_url}/control/airbnb/bookings "
        '{"listing_id": "50001", "arrival": "…", "departure": "…"}'
    ]


async def connect_booking_and_expedia(sandbox_url: str) -> list[str]:
    """Connect the demo agency to the Booking.com and Expedia simulators (idempotent): one room
    rate each, on the second demo property. Their reservations are pulled by the beat."""
    from pms.channel.adapters.booking import BookingAdapter
    from pms.channel.adapters.expedia import ExpediaAdapter

    settings = get_settings()
    out = []
    booking = BookingAdapter(settings)
    grant = await booking.check_credentials({"hotel_id": DEMO_BOOKING_HOTEL})
    listings = [x.id for x in await booking.list_listings(grant.credentials)]
    mapped = await _connect(
        "booking_com",
        "Booking.com (sandbox hotel 9000001)",
        grant,
        listings,
        {DEMO_BOOKING_LISTING: 1},
        markup=1200,
    )
    if mapped:
        out.append(
            f"Booking.com (sandbox hotel 9000001) connected: {', '.join(mapped)}; book as a "
            f"guest: POST {sandbox_url}/control/booking/bookings "
            '{"listing_id": "9000001", "room_id": "900000101", "rate_plan_id": "55500001", '
            '"arrival": "…", "departure": "…"} (pulled within 20 s)'
        )
    expedia = ExpediaAdapter(settings)
    grant = await expedia.check_credentials(DEMO_EXPEDIA)
    listings = [x.id for x in await expedia.list_listings(grant.credentials)]
    mapped = await _connect(
        "expedia",
        "Expedia (sandbox hotel 12933870)",
        grant,
        listings,
        {DEMO_EXPEDIA_LISTING: 1},
        markup=1500,
    )
    if mapped:
        out.append(
            f"Expedia (sandbox hotel 12933870) connected: {', '.join(mapped)}; book as a "
            f"guest: POST {sandbox_url}/control/expedia/bookings "
            '{"listing_id": "12933870", "arrival": "…", "departure": "…"} (retrieved by BR '
            "every EXPEDIA_POLL_SECONDS, or at once with POST …/channel-connections/{id}/reconcile)"
        )
    return out


async def _connect(
    platform: str,
    name: str,
    grant: Grant,
    listings: list[str],
    plan: dict[str, int],
    *,
    markup: int,
) -> list[str]:
    """Store the demo agency's connection (new credentials every start: the sandbox forgets)
    and map the planned listings to demo properties, or ask for a full sync of those mapped."""
    from pms.models.channel import MarkupKind

    async with db.get_sessionmaker()() as session, session.begin():
        user = await auth.find_user_by_email(session, DEMO_EMAIL)
        if user is None:
            return []
        actor = await auth.resolve_actor(session, auth.Identity.of(user), None)
        agency_id = actor.require_agency()
        await db.set_tenant(session, agency_id)
        connection_id = await _upsert_connection(
            session, agency_id, platform, grant.account_id, name, grant.credentials, listings
        )
        mapped = []
        for listing_id, index in plan.items():
            if listing_id not in listings:
                continue
            # The platform's commission, in basis points.
            prop = await _map(
                session, actor, connection_id, listing_id, index, MarkupKind.PERCENT, markup
            )
            if prop is not None:
                mapped.append(f"{listing_id} → '{prop}'")
    return mapped


# The demo agency on FeWo-direkt/Vrbo (Vrbo pulls our feeds and books in real time) and on
# Google Vacation Rentals (sandbox property "fewo-42" of our partner key): listing → property.
DEMO_VRBO_LISTING = ("fewo-4711", 1)
DEMO_GOOGLE_LISTING = ("fewo-42", 0)


async def _upsert_connection(
    session: AsyncSession,
    agency_id: uuid.UUID,
    platform: str,
    account: str,
    name: str,
    credentials: dict[str, Any],
    listings: list[str],
) -> uuid.UUID:
    """The demo agency's connection to ``account`` on the platform, created or given the new
    credentials (the sandbox forgets them on every start), active, with its remote listings."""
    from sqlalchemy import select

    from pms.channel import connections
    from pms.models.channel import ChannelConnection, ConnectionStatus

    connection = (
        await session.execute(
            select(ChannelConnection).where(
                ChannelConnection.agency_id == agency_id,
                ChannelConnection.platform == platform,
                ChannelConnection.account_id == account,
            )
        )
    ).scalar_one_or_none()
    if connection is None:
        connection = ChannelConnection(
            id=uuid.uuid4(),
            agency_id=agency_id,
            platform=platform,
            name=name,
            account_id=account,
            failures_in_row=0,
        )
        session.add(connection)
    connection.credentials = connections.seal(get_settings(), credentials)
    connection.remote_listings = [{"id": x, "currency": "EUR"} for x in listings]
    connection.status = ConnectionStatus.ACTIVE
    await session.flush()
    return connection.id


async def _map(
    session: AsyncSession,
    actor: Actor,
    connection_id: uuid.UUID,
    listing: str,
    index: int,
    markup_kind: MarkupKind,
    markup_value: int,
) -> str | None:
    """Map ``listing`` to the demo property ``index`` (or ask for a full sync where it is
    mapped already); the property's name, or None where the demo has no such property."""
    from sqlalchemy import select

    from pms.channel import mappings
    from pms.models.channel import ChannelMapping
    from pms.models.property import Property

    props = {
        p.name: p
        for p in (await session.execute(properties.visible(actor))).scalars()
        if isinstance(p, Property)
    }
    prop = props.get(_PROPERTIES[index][0])
    if prop is None:
        return None
    existing = (
        await session.execute(
            select(ChannelMapping).where(
                ChannelMapping.connection_id == connection_id,
                ChannelMapping.remote_listing_id == listing,
                ChannelMapping.active,
            )
        )
    ).scalar_one_or_none()
    if existing is None:
        await mappings.create(
            session,
            actor,
            get_settings(),
            connection_id,
            mappings.MappingInput(
                remote_listing_id=listing,
                property_id=prop.id,
                rate_plan_id=None,
                markup_kind=markup_kind,
                markup_value=markup_value,
                sync_availability=True,
                sync_prices=True,
                sync_restrictions=True,
            ),
        )
    else:
        await mappings.full_sync(session, get_settings(), existing, prop.timezone)
    return str(prop.name)


async def connect_vrbo_google(sandbox_url: str, api_url: str) -> list[str]:
    """Connect the demo agency to the Vrbo and Google simulators (idempotent). Vrbo gets a new
    feed password on every start (the sandbox forgets its configuration), is pointed at our
    feeds and booking endpoint, and pulls once; Google gets Property Data, then the engine's
    full sync opens the nights we sell."""
    import secrets

    import httpx

    from pms.channel import google_listings
    from pms.models.channel import MarkupKind

    settings = get_settings()
    password = secrets.token_urlsafe(18)
    vrbo_listing, vrbo_index = DEMO_VRBO_LISTING
    google_listing, google_index = DEMO_GOOGLE_LISTING
    async with db.get_sessionmaker()() as session, session.begin():
        user = await auth.find_user_by_email(session, DEMO_EMAIL)
        if user is None:
            return []
        actor = await auth.resolve_actor(session, auth.Identity.of(user), None)
        agency_id = actor.require_agency()
        await db.set_tenant(session, agency_id)
        vrbo_id = await _upsert_connection(
            session,
            agency_id,
            "fewo_direkt",
            "demo-advertiser",
            "FeWo-direkt/Vrbo (sandbox)",
            {
                "username": "demo-vrbo",
                "password": password,
                "advertiser_id": "demo-advertiser",
                "listings": vrbo_listing,
            },
            [vrbo_listing],
        )
        # No markup: the direct engine's price (Google requires it; Vrbo asks us for quotes).
        vrbo_name = await _map(
            session, actor, vrbo_id, vrbo_listing, vrbo_index, MarkupKind.NONE, 0
        )
        google_id = await _upsert_connection(
            session,
            agency_id,
            "google",
            settings.google_partner_key,
            "Google Vacation Rentals (sandbox)",
            {"partner_key": settings.google_partner_key, "listings": google_listing},
            [google_listing],
        )
        google_name = await _map(
            session, actor, google_id, google_listing, google_index, MarkupKind.NONE, 0
        )
    base = f"{api_url}/api/v1/channels/fewo_direkt/{vrbo_id}"
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.put(
            f"{sandbox_url}/control/vrbo/config",
            json={
                "feed_url": f"{base}/feeds/advertisersContentIndex",
                "booking_url": f"{base}/booking",
                "username": "demo-vrbo",
                "password": password,
                "pull_interval_s": 300,
            },
        )
        r.raise_for_status()
        pulled = (await http.post(f"{sandbox_url}/control/vrbo/pull")).json()
    async with db.get_sessionmaker()() as session, session.begin():
        await db.set_tenant(session, agency_id)
        pushed, failed = await google_listings.push_property_data(
            session, actor, settings, google_id
        )
    return [
        f"FeWo-direkt/Vrbo (sandbox) connected: listing {vrbo_listing} → '{vrbo_name}' "
        f"(request to book: bookings arrive UNCONFIRMED); Vrbo read {len(pulled['fetched'])} "
        f"feed documents; book as a guest: POST {sandbox_url}/control/vrbo/bookings "
        f'{{"listing_id": "{vrbo_listing}", "arrival": "…", "departure": "…"}}',
        f"Google Vacation Rentals (sandbox) connected: listing {google_listing} → "
        f"'{google_name}'; Property Data {'pushed' if pushed else f'refused: {failed}'}; "
        f"its nights: GET {sandbox_url}/control/google/listings/{google_listing}/days"
        "?start=…&end=…",
    ]


async def _run() -> list[str]:
    try:
        return await _seed()
    finally:
        await db.dispose_engine()


def connect_demo_channels(sandbox_url: str, api_url: str) -> Iterator[str]:
    """For ``pms dev`` once the sandbox and the API answer."""

    async def go() -> list[str]:
        try:
            lines = await connect_airbnb(sandbox_url, f"{api_url}/api/v1/channels/airbnb/webhooks")
            lines += await connect_booking_and_expedia(sandbox_url)
            return lines + await connect_vrbo_google(sandbox_url, api_url)
        finally:
            await db.dispose_engine()

    yield from asyncio.run(go())


def seed_demo() -> Iterator[str]:
    yield from asyncio.run(_run())
    yield f"demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}  (POST /api/v1/auth/login)"
