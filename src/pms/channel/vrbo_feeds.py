"""The feeds we host for FeWo-direkt/Vrbo, per connection: who may read them (the connection's
Basic credentials), the content documents of each mapped listing built from Core (the stored
daily ARI with the mapping's markup, the property's pricing), and each document's honest
``lastUpdatedDate``: the time its content last changed, kept as a hash per document."""

from __future__ import annotations

import hashlib
import sys
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import String, case, literal_column, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pms import db
from pms.channel import connections
from pms.channel.adapters import vrbo
from pms.channel.adapters.base import NightValues
from pms.channel.engine import values
from pms.core import ari_store, pricing, quotes
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
    body: bytes | None  # None: unchanged since it was last built, and not built again
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


@dataclass(frozen=True)
class _Listing:
    """A mapped listing with what its documents are built from, and the row versions (``xmin``,
    which PostgreSQL changes on every write, whoever makes it) of its mapping, property and plan,
    read in the same statements as the rows themselves."""

    mapping: ChannelMapping
    prop: Property
    plan: RatePlan | None
    start: date  # the window's first day: the property's today
    versions: str


async def _mappings(
    s: AsyncSession, connection: ChannelConnection, listing_id: str | None
) -> list[_Listing]:
    """The connection's mapped listings with their property and rate plan (the mapping's, or
    the property's default), in two statements whatever their number."""
    stmt = (
        select(
            ChannelMapping,
            Property,
            literal_column("channel_mappings.xmin::text", String),
            literal_column("properties.xmin::text", String),
        )
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
    found = [(m, p, f"{mx}.{px}") for m, p, mx, px in (await s.execute(stmt)).all()]
    if not found:
        return []
    plans = (
        await s.execute(
            select(RatePlan, literal_column("rate_plans.xmin::text", String)).where(
                RatePlan.property_id.in_([p.id for _, p, _ in found]),
                or_(
                    RatePlan.is_default,
                    RatePlan.id.in_([m.rate_plan_id for m, _, _ in found if m.rate_plan_id]),
                ),
            )
        )
    ).all()
    by_id = {plan.id: (plan, x) for plan, x in plans}
    default = {plan.property_id: (plan, x) for plan, x in plans if plan.is_default}
    out = []
    for m, p, versions in found:
        plan, px = (by_id.get(m.rate_plan_id) if m.rate_plan_id else default.get(p.id)) or (
            None,
            "-",
        )
        start = ari_store.local_today(p.timezone)
        out.append(_Listing(m, p, plan, start, f"{versions}.{plan.id if plan else '-'}.{px}"))
    return out


def listing_feed(
    settings: Settings,
    mapping: ChannelMapping,
    prop: Property,
    plan: RatePlan | None,
    start: date,
    rows: Sequence[AriDay],
    priced: PropertyPricing | None,
) -> vrbo.ListingFeed:
    """One listing's documents' content: ``rows`` from ``start``, the property's today (Core's
    stored daily ARI, the mapping's markup applied here) and ``priced`` (fees, taxes, discounts,
    policy)."""
    nights: list[NightValues] = []
    for row in rows:
        shown = values.platform_values(row, mapping)
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
        start=start,
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


# What each kind of document reads besides its mapping, property and plan.
_READS_ARI = frozenset({"lodgingRateContent", "unitAvailabilityContent"})
_READS_PRICING = frozenset({"lodgingRateContent", "lodgingConfigurationContent"})


def _code_version() -> str:
    """The source of the code that turns rows into documents: a deploy that changes it (a new
    element, another rendering) changes every fingerprint, so each document is built once
    again on its next pull instead of keeping what the old code said."""
    digest = hashlib.sha256()
    for module in (vrbo, values, pricing, quotes, sys.modules[__name__]):
        path = module.__file__
        digest.update(Path(path).read_bytes() if path else b"?")
    return digest.hexdigest()[:16]


# Bump to rebuild every document even though no code above changed (a dependency's rendering).
FORMAT = f"1.{_code_version()}"

# Documents built, per kind: an unchanged pull builds none (the tests count them).
builds: Counter[str] = Counter()

# The versions of the rows a listing's documents read beyond its mapping, property and plan, for
# all listings in one statement: the stored ARI of its window (every row's day and xmin, so a
# write, an insert or a delete changes it), its pricing assignment with the visitor tax and
# cancellation policy it names, its fees in order, and its agency's tax classes.
_ARI_VERSIONS = """
    (SELECT count(*)::text || ':'
            || coalesce(md5(string_agg(a.day::text || '.' || a.xmin::text, ',' ORDER BY a.day)), '')
       FROM ari_days a
      WHERE a.rate_plan_id = w.plan AND a.day >= w.s AND a.day < w.e)
"""
_PRICING_VERSIONS = """
    (SELECT coalesce(string_agg(pp.xmin::text || '.' || coalesce(v.xmin::text, '-') || '.'
                                || coalesce(c.xmin::text, '-'), ','), '')
       FROM property_pricing pp
       LEFT JOIN visitor_tax_locations v ON v.id = pp.visitor_tax_location_id
       LEFT JOIN cancellation_policies c ON c.id = pp.cancellation_policy_id
      WHERE pp.property_id = w.prop)
    || '|' || (SELECT coalesce(string_agg(pf.xmin::text || '.' || f.id::text || '.'
                                          || f.xmin::text, ',' ORDER BY pf.position, f.id), '')
                 FROM property_fees pf JOIN fees f ON f.id = pf.fee_id
                WHERE pf.property_id = w.prop)
    || '|' || (SELECT coalesce(string_agg(t.id::text || '.' || t.xmin::text, ',' ORDER BY t.id), '')
                 FROM tax_classes t WHERE t.agency_id = w.agency)
"""


async def _fingerprints(
    s: AsyncSession, listings: Sequence[_Listing], kind: str, days: int
) -> list[str]:
    """Each listing's ``kind`` document's fingerprint: the versions of every row it reads, the
    window (its first day moves at the property's midnight) and the format. Read before the
    rows themselves, so a write in between makes the next pull rebuild, never a stale hit."""
    ari = _ARI_VERSIONS if kind in _READS_ARI else "''"
    priced = _PRICING_VERSIONS if kind in _READS_PRICING else "''"
    found = {
        key: (a, p)
        for key, a, p in (
            await s.execute(
                text(
                    f"SELECT w.key, {ari}, {priced} FROM unnest("  # noqa: S608 (fixed fragments)
                    "CAST(:keys AS uuid[]), CAST(:plans AS uuid[]), CAST(:props AS uuid[]),"
                    " CAST(:agencies AS uuid[]), CAST(:starts AS date[]), CAST(:ends AS date[])"
                    ") AS w(key, plan, prop, agency, s, e)"
                ),
                {
                    "keys": [x.mapping.id for x in listings],
                    "plans": [x.plan.id if x.plan else None for x in listings],
                    "props": [x.prop.id for x in listings],
                    "agencies": [x.prop.agency_id for x in listings],
                    "starts": [x.start for x in listings],
                    "ends": [x.start + timedelta(days=days) for x in listings],
                },
            )
        ).all()
    }
    out = []
    for x in listings:
        a, p = found[x.mapping.id]
        said = "|".join((FORMAT, kind, x.start.isoformat(), str(days), x.versions, a, p))
        out.append(hashlib.sha256(said.encode()).hexdigest())
    return out


async def _stored(
    s: AsyncSession, listings: Sequence[_Listing], kind: str
) -> dict[uuid.UUID, ChannelFeedDocument]:
    return {
        d.mapping_id: d
        for d in (
            await s.execute(
                select(ChannelFeedDocument).where(
                    ChannelFeedDocument.mapping_id.in_([x.mapping.id for x in listings]),
                    ChannelFeedDocument.kind == kind,
                )
            )
        ).scalars()
    }


async def _versions(
    s: AsyncSession,
    listings: Sequence[_Listing],
    kind: str,
    etags: Sequence[str],
    inputs: Sequence[str],
) -> list[datetime]:
    """Each built document's lastUpdatedDate: unchanged since we last built it, or now; and the
    fingerprint it was built from."""
    if not listings:
        return []
    now = datetime.now(UTC)
    rows = [
        {
            "mapping_id": x.mapping.id,
            "kind": kind,
            "agency_id": x.mapping.agency_id,
            "etag": tag,
            "updated_at": now,
            "inputs": fp,
        }
        for x, tag, fp in zip(listings, etags, inputs, strict=True)
    ]
    t = ChannelFeedDocument.__table__
    upsert = insert(ChannelFeedDocument).values(rows)
    stmt = upsert.on_conflict_do_update(
        index_elements=[t.c.mapping_id, t.c.kind],
        set_={
            "etag": upsert.excluded.etag,
            "inputs": upsert.excluded.inputs,
            "updated_at": case(
                (t.c.etag != upsert.excluded.etag, upsert.excluded.updated_at),
                else_=t.c.updated_at,
            ),
        },
    ).returning(t.c.mapping_id, t.c.updated_at)
    found: dict[uuid.UUID, datetime] = {k: v for k, v in (await s.execute(stmt)).all()}
    return [found[x.mapping.id] for x in listings]


async def documents(
    s: AsyncSession,
    settings: Settings,
    connection: ChannelConnection,
    kind: str,
    listing_id: str | None = None,
    *,
    build: bool = False,
) -> list[tuple[str, Document]]:
    """The ``kind`` documents of the connection's mapped listings (or of one). Only those whose
    inputs changed since they were last built are built again (all of them with ``build``); the
    others keep their stored ETag and date and come without a body."""
    if kind not in vrbo.CONTENT:
        raise NotFound("No such feed.")
    found = await _mappings(s, connection, listing_id)
    if listing_id is not None and not found:
        raise NotFound("No such listing in this feed.")
    days = min(settings.channel_sync_days, vrbo.VrboAdapter.window_days)
    inputs = await _fingerprints(s, found, kind, days)
    stored = await _stored(s, found, kind)
    docs: dict[uuid.UUID, Document] = {}
    todo: list[tuple[_Listing, str]] = []
    for x, fp in zip(found, inputs, strict=True):
        had = stored.get(x.mapping.id)
        if had is not None and had.inputs == fp and not build:
            docs[x.mapping.id] = Document(None, had.etag, had.updated_at)
        else:
            todo.append((x, fp))
    # Each document reads only what it says: nights for rates and availability, pricing for
    # rates and configuration; all listings' rows and pricing in a few statements.
    rows: dict[uuid.UUID, list[AriDay]] = {}
    if kind in _READS_ARI:
        rows = await ari_store.stored_rows_many(
            s,
            [
                (x.mapping.id, x.plan.id, x.start, x.start + timedelta(days=days))
                for x, _ in todo
                if x.plan is not None
            ],
        )
    priced: dict[uuid.UUID, PropertyPricing] = {}
    if kind in _READS_PRICING:
        priced = await pricing.property_pricing_many(
            s, [(x.prop, x.plan) for x, _ in todo if x.plan is not None]
        )
    render = vrbo.CONTENT[kind]
    bodies = [
        vrbo.render(
            render(
                listing_feed(
                    settings,
                    x.mapping,
                    x.prop,
                    x.plan,
                    x.start,
                    rows.get(x.mapping.id, []),
                    priced.get(x.prop.id),
                )
            )
        )
        for x, _ in todo
    ]
    builds[kind] += len(bodies)
    tags = [vrbo.etag(b) for b in bodies]
    updated = await _versions(s, [x for x, _ in todo], kind, tags, [fp for _, fp in todo])
    for (x, _), body, tag, at in zip(todo, bodies, tags, updated, strict=True):
        docs[x.mapping.id] = Document(body, tag, at)
    return [(x.mapping.remote_listing_id, docs[x.mapping.id]) for x in found]


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
