"""The feeds we host for FeWo-direkt/Vrbo, per connection: who may read them (the connection's
Basic credentials), the content documents of each mapped listing built from Core (the stored
daily ARI with the mapping's markup, the property's pricing), and each document's honest
``lastUpdatedDate``: the time its content last changed, kept as a hash per document."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pms import db
from pms.channel import connections
from pms.channel.adapters import vrbo
from pms.channel.adapters.base import NightValues
from pms.channel.engine.values import platform_values
from pms.core import ari_store, pricing
from pms.core.ari import AriDay
from pms.core.errors import NotFound, Unauthorized
from pms.core.quotes import PropertyPricing
from pms.models.channel import (
    ChannelConnection,
    ChannelFeedDocument,
    ChannelMapping,
    ConnectionStatus,
)
from pms.models.property import Property
from pms.models.rates import RatePlan
from pms.settings import Settings


@dataclass(frozen=True)
class Document:
    body: bytes
    etag: str
    updated_at: datetime


@dataclass(frozen=True)
class Caller:
    """A connection whose credentials Vrbo presented."""

    connection: ChannelConnection
    credentials: dict[str, Any]

    @property
    def advertiser(self) -> str:
        return str(self.credentials.get("advertiser_id") or self.connection.account_id)


def refused() -> Unauthorized:
    return Unauthorized(
        "Missing or invalid feed credentials.", headers={"WWW-Authenticate": 'Basic realm="vrbo"'}
    )


async def authorize(
    s: AsyncSession, settings: Settings, connection_id: uuid.UUID, username: str, password: str
) -> Caller:
    """The Vrbo connection whose credentials these are, in a system transaction that is then
    scoped to the connection's agency. Wrong credentials, an unknown connection and another
    platform's connection all look the same: a 401."""
    await db.system_access(s)
    connection = await s.get(ChannelConnection, connection_id)
    if connection is None or connection.platform != vrbo.PLATFORM:
        raise refused()
    credentials = connections.unseal(settings, connection)
    if not vrbo.check_basic(credentials, username, password):
        raise refused()
    await db.system_access(s, on=False)
    await db.set_tenant(s, connection.agency_id)
    if connection.status == ConnectionStatus.REVOKED:
        raise refused()
    return Caller(connection, credentials)


async def _mappings(
    s: AsyncSession, connection: ChannelConnection, listing_id: str | None
) -> list[tuple[ChannelMapping, Property, RatePlan | None]]:
    """The connection's mapped listings with their property and rate plan (the mapping's, or
    the property's default), in two statements whatever their number."""
    stmt = (
        select(ChannelMapping, Property)
        .join(Property, Property.id == ChannelMapping.property_id)
        .where(
            ChannelMapping.connection_id == connection.id,
            ChannelMapping.active,
            Property.deleted_at.is_(None),
        )
        .order_by(ChannelMapping.remote_listing_id)
    )
    if listing_id is not None:
        stmt = stmt.where(ChannelMapping.remote_listing_id == listing_id)
    found = [(m, p) for m, p in (await s.execute(stmt)).all()]
    if not found:
        return []
    plans = (
        (
            await s.execute(
                select(RatePlan).where(
                    RatePlan.property_id.in_([p.id for _, p in found]),
                    or_(
                        RatePlan.is_default,
                        RatePlan.id.in_([m.rate_plan_id for m, _ in found if m.rate_plan_id]),
                    ),
                )
            )
        )
        .scalars()
        .all()
    )
    by_id = {plan.id: plan for plan in plans}
    default = {plan.property_id: plan for plan in plans if plan.is_default}
    return [
        (m, p, by_id.get(m.rate_plan_id) if m.rate_plan_id else default.get(p.id)) for m, p in found
    ]


def listing_feed(
    settings: Settings,
    mapping: ChannelMapping,
    prop: Property,
    plan: RatePlan | None,
    rows: Sequence[AriDay],
    priced: PropertyPricing | None,
) -> vrbo.ListingFeed:
    """One listing's documents' content: ``rows`` from today (Core's stored daily ARI, the
    mapping's markup applied here) and ``priced`` (fees, taxes, discounts, policy)."""
    today = ari_store.local_today(prop.timezone)
    nights: list[NightValues] = []
    for row in rows:
        shown = platform_values(row, mapping)
        # What the mapping does not sync still has to be said: Core's own value.
        nights.append(
            NightValues(
                available=row.available if shown.available is None else shown.available,
                price_minor=shown.price_minor,
                min_stay=shown.min_stay,
                max_stay=shown.max_stay,
                closed_to_arrival=shown.closed_to_arrival,
                closed_to_departure=shown.closed_to_departure,
            )
        )
    if not nights:
        nights = [NightValues(available=False)]  # nothing to sell: one closed night
    return vrbo.ListingFeed(
        listing_id=mapping.remote_listing_id,
        name=prop.name,
        description=prop.description or "",
        currency=prop.currency,
        max_guests=prop.max_guests,
        bedrooms=prop.bedrooms,
        bathrooms=prop.bathrooms,
        address={
            "addressLine1": prop.address_line1,
            "addressLine2": prop.address_line2,
            "city": prop.city,
            "postalCode": prop.postal_code,
            "country": prop.country,
        },
        latitude=prop.latitude,
        longitude=prop.longitude,
        check_in_time=prop.check_in_time.strftime("%H:%M"),
        check_out_time=prop.check_out_time.strftime("%H:%M"),
        instant_book=prop.instant_book,
        amenities=tuple(prop.amenities or ()),
        start=today,
        nights=tuple(nights),
        min_prior_notify=plan.min_lead_days if plan is not None else 0,
        default_nightly_minor=plan.base_price_minor if plan is not None else 0,
        fees=tuple(
            vrbo.FeedFee(f.code, f.kind.value, f.amount_minor, f.percent, f.label)
            for f in (priced.fees if priced else ())
        ),
        taxes=tuple(
            vrbo.FeedTax(t.code, t.rate_percent, t.inclusive, t.label)
            for t in (priced.tax_classes if priced else ())
        ),
        visitor_tax_minor=(
            priced.visitor_tax.amount_minor if priced and priced.visitor_tax else None
        ),
        los_discounts=tuple(
            (d.min_nights, d.percent) for d in (priced.los_discounts if priced else ())
        ),
        refunds=tuple(
            (r.days_before, r.refund_percent)
            for r in (priced.cancellation.rules if priced and priced.cancellation else ())
        ),
    )


async def _versions(
    s: AsyncSession, mappings: Sequence[ChannelMapping], kind: str, etags: Sequence[str]
) -> list[datetime]:
    """Each document's lastUpdatedDate: unchanged since we last built it, or now."""
    if not mappings:
        return []
    now = datetime.now(UTC)
    rows = [
        {
            "mapping_id": m.id,
            "kind": kind,
            "agency_id": m.agency_id,
            "etag": tag,
            "updated_at": now,
        }
        for m, tag in zip(mappings, etags, strict=True)
    ]
    t = ChannelFeedDocument.__table__
    stmt = insert(ChannelFeedDocument).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.mapping_id, t.c.kind],
        set_={"etag": stmt.excluded.etag, "updated_at": stmt.excluded.updated_at},
        where=t.c.etag != stmt.excluded.etag,
    )
    await s.execute(stmt)
    found = dict(
        (
            await s.execute(
                select(ChannelFeedDocument.mapping_id, ChannelFeedDocument.updated_at).where(
                    ChannelFeedDocument.mapping_id.in_([m.id for m in mappings]),
                    ChannelFeedDocument.kind == kind,
                )
            )
        ).all()
    )
    return [found[m.id] for m in mappings]


async def documents(
    s: AsyncSession,
    settings: Settings,
    connection: ChannelConnection,
    kind: str,
    listing_id: str | None = None,
) -> list[tuple[str, Document]]:
    """The ``kind`` documents of the connection's mapped listings (or of one), built now."""
    if kind not in vrbo.CONTENT:
        raise NotFound("No such feed.")
    found = await _mappings(s, connection, listing_id)
    if listing_id is not None and not found:
        raise NotFound("No such listing in this feed.")
    # Each document reads only what it says: nights for rates and availability, pricing for
    # rates and configuration; all listings' rows and pricing in a few statements.
    rows: dict[uuid.UUID, list[AriDay]] = {}
    if kind in ("lodgingRateContent", "unitAvailabilityContent"):
        days = min(settings.channel_sync_days, vrbo.VrboAdapter.window_days)
        windows = []
        for m, p, plan in found:
            if plan is not None:
                today = ari_store.local_today(p.timezone)
                windows.append((m.id, plan.id, today, today + timedelta(days=days)))
        rows = await ari_store.stored_rows_many(s, windows)
    priced: dict[uuid.UUID, PropertyPricing] = {}
    if kind in ("lodgingRateContent", "lodgingConfigurationContent"):
        priced = await pricing.property_pricing_many(
            s, [(p, plan) for _, p, plan in found if plan is not None]
        )
    render = vrbo.CONTENT[kind]
    bodies = [
        vrbo.render(
            render(listing_feed(settings, m, p, plan, rows.get(m.id, []), priced.get(p.id)))
        )
        for m, p, plan in found
    ]
    tags = [vrbo.etag(b) for b in bodies]
    updated = await _versions(s, [m for m, _, _ in found], kind, tags)
    return [
        (m.remote_listing_id, Document(body, tag, at))
        for (m, _, _), body, tag, at in zip(found, bodies, tags, updated, strict=True)
    ]


async def index(
    s: AsyncSession, settings: Settings, caller: Caller, index_name: str, base_url: str
) -> Document:
    kinds = {v: k for k, v in vrbo.INDEXES.items()}
    kind = kinds.get(index_name)
    if kind is None:
        raise NotFound("No such feed.")
    docs = await documents(s, settings, caller.connection, kind)
    body = vrbo.render(vrbo.content_index(kind, [(lid, d.updated_at) for lid, d in docs], base_url))
    latest = max((d.updated_at for _, d in docs), default=caller.connection.created_at)
    return Document(body, vrbo.etag(body), latest)


def advertisers(caller: Caller, base_url: str) -> Document:
    body = vrbo.render(vrbo.advertisers_index(caller.advertiser, base_url))
    return Document(body, vrbo.etag(body), caller.connection.created_at)
