"""Guest search, the date picker's calendar and "from" prices, read from the stored ARI rows and
priced by the same rules (``core.quotes``, ``core.pricing``) as bookings.

A property is offered for a stay exactly when its default plan's quote is bookable (min/max
stay, closed to arrival/departure, booking window, max guests, every night open) and no
booking, live hold or block occupies a night: the checks the booking step makes. One statement
finds the bookable properties and sums their nightly prices over the stored rows; the totals
then come from that sum (``core.quote_totals``) with one tariff per distinct pricing, so no
object is built per night or per property's fee."""

from __future__ import annotations

import asyncio
import heapq
import json
import math
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import repeat
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    ARRAY,
    Date,
    Float,
    Integer,
    Result,
    Row,
    Select,
    String,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import (
    ari,
    ari_store,
    inventory,
    listing,
    pricing,
    quote_totals,
    quotes,
    sqlarrays,
)
from pms.core.dates import ONE_DAY, Stay
from pms.core.errors import Conflict, NotFound, Unprocessable
from pms.core.money import Money
from pms.core.restrictions import BookingWindow, rows_read_by
from pms.models.photo import PropertyPhoto
from pms.models.property import Property
from pms.models.rates import AriDay as AriRow
from pms.models.rates import CancellationPolicy as PolicyRow
from pms.models.rates import (
    Fee,
    PropertyFee,
    PropertyPricing,
    RatePlan,
    TaxClass,
    VisitorTaxLocation,
)

# How far past a calendar's end rows are read, so the last days' possible stays can be judged.
_LOOKAHEAD_DAYS = 60
FROM_PRICE_DAYS = 365

Sort = Literal["price", "distance"]


@dataclass(frozen=True, slots=True)
class Filters:
    location: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_km: float | None = None
    min_bedrooms: int | None = None
    amenities: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        has_point = self.latitude is not None and self.longitude is not None
        if (self.latitude is None) != (self.longitude is None):
            raise _invalid("lat", "lat and lng go together")
        if self.radius_km is not None and not has_point:
            raise _invalid("radius_km", "a radius needs lat and lng")


class Group(NamedTuple):
    """The properties bookable for the stay as far as their stored ARI rows go that share a
    tariff (the first seven fields: equal ones mean equal prices besides the nights), a time
    zone and a booking window: one result row, as it comes. The arrays run in one order."""

    currency: str
    los_discounts: str  # the default plan's, as JSON text
    pricing_property: uuid.UUID | None  # the property's own pricing assignment, if any
    accommodation_tax_class_id: uuid.UUID | None
    visitor_tax_location_id: uuid.UUID | None
    cancellation_policy_id: uuid.UUID | None
    fee_ids: str | None  # the property's fees, ordered by id, comma-separated
    timezone: str
    min_lead_days: int
    max_advance_days: int | None
    ids: list[uuid.UUID]
    names: list[str]
    subtotals: list[int]  # the sums of the nightly prices (bigint: ints)
    latitudes: list[float | None] | None  # only when a distance is asked for
    longitudes: list[float | None] | None

    @property
    def tariff_key(self) -> tuple[Any, ...]:
        return self[:7]


@dataclass(frozen=True, slots=True)
class Hit:
    property_id: uuid.UUID
    total_minor: int
    currency: str
    distance_km: float | None

    @property
    def total(self) -> Money:
        return Money(self.total_minor, self.currency)


@dataclass(frozen=True, slots=True)
class Found:
    count: int  # every bookable property
    hits: list[Hit]  # the page asked for, sorted


def _invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors=[{"field": field, "in": "query", "message": message}])


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, a)))


def _filtered(stmt: Select[Any], filters: Filters) -> Select[Any]:
    """The filters as named bind parameters (values in `_filter_values`): the statement's text
    depends only on which filters are used."""
    stmt = stmt.where(
        Property.agency_id == bindparam("agency"),
        Property.is_listed.is_(True),
        Property.deleted_at.is_(None),
        Property.max_guests >= bindparam("guests"),
    )
    if filters.location:
        pattern = bindparam("pattern", type_=String)
        stmt = stmt.where(
            or_(
                Property.city.ilike(pattern, escape="\\"),
                Property.name.ilike(pattern, escape="\\"),
            )
        )
    if filters.min_bedrooms is not None:
        stmt = stmt.where(Property.bedrooms >= bindparam("bedrooms"))
    if filters.amenities:
        amenities = bindparam("amenities", type_=Property.amenities.type)
        stmt = stmt.where(Property.amenities.contains(amenities))
    if filters.radius_km is not None:
        stmt = stmt.where(Property.latitude.is_not(None), Property.longitude.is_not(None))
    return stmt


def _filter_values(
    agency_id: uuid.UUID, filters: Filters, guests: int, stay: Stay
) -> dict[str, Any]:
    return {
        "agency": agency_id,
        "guests": guests,
        "pattern": f"%{listing.escape_like(filters.location)}%" if filters.location else None,
        "bedrooms": filters.min_bedrooms,
        "amenities": list(filters.amenities),
        "check_in": stay.check_in,
        "check_out": stay.check_out,
        "read_end": rows_read_by(stay).check_out,
        "nights": stay.nights,
    }


def _stay_rows() -> Any:
    """Per default plan, what its stored rows of `rows_read_by(stay)` say about the stay, as a
    lateral aggregate over the plan's primary-key range: the open nights, the sum of the
    nightly prices, and whether the arrival's min/max stay or closed to arrival, or the
    departure's closed to departure, refuse it (`restrictions.stay_restrictions`' rules)."""
    t = AriRow.__table__.c
    check_in, check_out = bindparam("check_in", type_=Date), bindparam("check_out", type_=Date)
    nights = bindparam("nights", type_=Integer)
    arrival_refuses = and_(
        t.day == check_in,
        or_(
            t.min_stay > nights,
            and_(t.max_stay.is_not(None), t.max_stay < nights),
            t.closed_to_arrival,
        ),
    )
    return (
        select(
            func.count().filter(and_(t.day < check_out, t.available)).label("open_nights"),
            func.sum(t.price_minor).filter(t.day < check_out).label("subtotal"),
            func.bool_or(arrival_refuses).label("arrival_refuses"),
            func.bool_or(and_(t.day == check_out, t.closed_to_departure)).label(
                "departure_refuses"
            ),
        )
        .where(
            t.rate_plan_id == RatePlan.id,
            t.day >= check_in,
            t.day < bindparam("read_end", type_=Date),
        )
        .lateral("ari")
    )


async def candidates(
    session: AsyncSession, agency_id: uuid.UUID, filters: Filters, stay: Stay, guests: int
) -> list[Group]:
    """Listed live properties matching the filters that sleep the party, whose default plan's
    stored rows open every night of the stay and allow it (min/max stay and closed to arrival of
    the check-in date, closed to departure of the check-out date): one statement, which also
    sums the nightly prices, so nothing is loaded per night and properties that cannot be offered
    are never priced. They come grouped by tariff, time zone and booking window, each group's
    properties as arrays (ids, names, nightly sums): a few rows instead of one per property.
    The booking window is left to `search` (it depends on each property's today).

    Bookings, live holds and blocks are in the rows already: every change of occupancy
    recompiles the affected rows in its own transaction (`ari_store.availability_changed`), so
    a night they take is not available. Asking the occupied ranges again would cost a probe per
    property that grows with the years of past stays."""
    shape = (
        bool(filters.location),
        filters.min_bedrooms is not None,
        bool(filters.amenities),
        filters.radius_km is not None,
        filters.latitude is not None,
    )
    compiled = _COMPILED.get(shape)
    if compiled is None:
        compiled = _COMPILED[shape] = _compile(_candidates_statement(filters), session)
    records = await _fetch(session, compiled, _filter_values(agency_id, filters, guests, stay))
    return [Group._make(tuple(r)) for r in records]


async def _fetch(
    session: AsyncSession, compiled: tuple[str, list[str], dict[str, Any]], values: dict[str, Any]
) -> list[Any]:
    """Run a compiled statement on the driver's own connection, in this request's transaction:
    the rows come as asyncpg records, without the ORM's per-row processing."""
    sql, names, constants = compiled
    values = {**constants, **values}
    connection = await (await session.connection()).get_raw_connection()
    driver: Any = connection.driver_connection
    return list(await driver.fetch(sql, *(values[name] for name in names)))


def _compile(stmt: Select[Any], session: AsyncSession) -> tuple[str, list[str], dict[str, Any]]:
    """SQL text, parameter names by position, and the values of the statement's constants."""
    compiled = stmt.compile(dialect=session.get_bind().dialect)
    names = list(compiled.positiontup or ())
    constants = {k: v for k, v in compiled.params.items() if v is not None}
    return compiled.string, names, constants


# Candidate statements by the filters they use (their text does not depend on the values).
_COMPILED: dict[tuple[bool, ...], tuple[str, list[str], dict[str, Any]]] = {}


def _candidates_statement(filters: Filters) -> Select[Any]:
    rows = _stay_rows()
    # The agency's fee assignments grouped once (one scan, hashed), not a probe per property.
    fees = (
        select(
            PropertyFee.property_id,
            func.string_agg(
                cast(PropertyFee.fee_id, Text), aggregate_order_by(literal(","), PropertyFee.fee_id)
            ).label("ids"),
        )
        .where(PropertyFee.agency_id == bindparam("agency"))
        .group_by(PropertyFee.property_id)
        .subquery("fees")
    )
    pp = PropertyPricing
    # Positions only when a distance is asked for; as floats, not Decimals.
    point = filters.latitude is not None
    found = (
        select(
            Property.id,
            Property.name,
            Property.timezone,
            Property.currency,
            cast(Property.latitude, Float).label("latitude"),
            cast(Property.longitude, Float).label("longitude"),
            RatePlan.min_lead_days,
            RatePlan.max_advance_days,
            RatePlan.los_discounts,
            rows.c.subtotal,
            pp.property_id.label("pricing_property"),
            pp.accommodation_tax_class_id,
            pp.visitor_tax_location_id,
            pp.cancellation_policy_id,
            fees.c.ids.label("fee_ids"),
        )
        .join(RatePlan, and_(RatePlan.property_id == Property.id, RatePlan.is_default))
        .join(rows, true())
        .outerjoin(pp, pp.property_id == Property.id)
        .outerjoin(fees, fees.c.property_id == Property.id)
    )
    found = _filtered(found, filters).where(
        rows.c.open_nights == bindparam("nights"),
        ~func.coalesce(rows.c.arrival_refuses, False),
        ~func.coalesce(rows.c.departure_refuses, False),
    )
    f = found.subquery("found").c
    key = (
        f.currency,
        f.los_discounts,
        f.pricing_property,
        f.accommodation_tax_class_id,
        f.visitor_tax_location_id,
        f.cancellation_policy_id,
        f.fee_ids,
        f.timezone,
        f.min_lead_days,
        f.max_advance_days,
    )

    def each(column: Any) -> Any:
        # The arrays of a group line up: one aggregation step feeds each row to all of them.
        # (An ORDER BY per array would sort each group once per array: a quarter of the
        # statement's time.)
        return func.array_agg(column)

    return select(
        *key[:1],
        cast(f.los_discounts, Text),
        *key[2:],
        each(f.id),
        each(f.name),
        each(f.subtotal),
        each(f.latitude) if point else null(),
        each(f.longitude) if point else null(),
    ).group_by(*key)


# What a result shows of its property, with the default plan and the photos (in order). Of
# the tables, not the mapped classes: the rows come without the ORM's loading.
_TABLES = (Property.__table__, RatePlan.__table__, PropertyPhoto.__table__)
_P, _PLAN, _PHOTO = (table.c for table in _TABLES)
_PAGE_STATEMENT = (
    select(
        *(
            _P[name]
            for name in (
                "id",
                "name",
                "description",
                "city",
                "country",
                "latitude",
                "longitude",
                "max_guests",
                "bedrooms",
                "bathrooms",
                "amenities",
                "instant_book",
                "currency",
                "check_in_time",
                "check_out_time",
            )
        ),
        _PLAN.id.label("rate_plan_id"),
        *(
            func.array_agg(aggregate_order_by(column, _PHOTO.position, _PHOTO.id))
            .filter(_PHOTO.id.is_not(None))
            .label(label)
            for column, label in ((_PHOTO.id, "photo_ids"), (_PHOTO.caption, "captions"))
        ),
    )
    .join(_TABLES[1], and_(_PLAN.property_id == _P.id, _PLAN.is_default))
    .outerjoin(_TABLES[2], _PHOTO.property_id == _P.id)
    .where(_P.id == any_(bindparam("ids", type_=ARRAY(PG_UUID(as_uuid=True)))))
    .group_by(_P.id, _PLAN.id)
)


async def page(session: AsyncSession, hits: Sequence[Hit]) -> list[Row[Any]]:
    """What the hits shown need of their properties, in the hits' order: one statement."""
    ids = [h.property_id for h in hits]
    if not ids:
        return []
    rows: Result[Any] = await session.execute(_PAGE_STATEMENT, {"ids": ids})
    by_id = {r.id: r for r in rows}
    return [by_id[i] for i in ids]


async def default_plans(
    session: AsyncSession, property_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, RatePlan]:
    rows = await session.execute(
        select(RatePlan).where(RatePlan.property_id.in_(property_ids), RatePlan.is_default)
    )
    return {p.property_id: p for p in rows.scalars().all()}


@dataclass(frozen=True, slots=True)
class _PlanTerms:
    """What `pricing.build_pricing` reads of a property and its plan."""

    currency: str
    max_guests: int
    los_discounts: list[dict[str, Any]]
    min_lead_days: int
    max_advance_days: int | None


async def tariffs(
    session: AsyncSession, agency_id: uuid.UUID, groups: Sequence[Group], guests: int
) -> dict[tuple[Any, ...], quote_totals.Tariff]:
    """A `Tariff` per distinct tariff key among the groups, each built by
    `pricing.build_pricing` from one property that has it (the same rows a quote reads); a key
    whose pricing is inconsistent (e.g. a fee in another currency) is left out: its properties
    cannot be quoted."""
    reps: dict[tuple[Any, ...], tuple[Group, uuid.UUID]] = {}
    for g in groups:
        reps.setdefault(g.tariff_key, (g, g.pricing_property or g.ids[0]))
    ids = [pid for g, pid in reps.values() if g.pricing_property or g.fee_ids]
    assigned: dict[uuid.UUID, Any] = {}
    fees: dict[uuid.UUID, list[Fee]] = defaultdict(list)
    tax_rows: Sequence[TaxClass] = ()
    if ids:
        for row in (
            await session.execute(
                select(PropertyPricing, VisitorTaxLocation, PolicyRow)
                .outerjoin(
                    VisitorTaxLocation,
                    VisitorTaxLocation.id == PropertyPricing.visitor_tax_location_id,
                )
                .outerjoin(PolicyRow, PolicyRow.id == PropertyPricing.cancellation_policy_id)
                .where(PropertyPricing.property_id == any_(sqlarrays.uuid_array(ids)))
            )
        ).all():
            assigned[row[0].property_id] = row
        tax_rows = (
            (await session.execute(select(TaxClass).where(TaxClass.agency_id == agency_id)))
            .scalars()
            .all()
        )
        for property_id, fee in (
            await session.execute(
                select(PropertyFee.property_id, Fee)
                .join(Fee, Fee.id == PropertyFee.fee_id)
                .where(PropertyFee.property_id == any_(sqlarrays.uuid_array(ids)))
                .order_by(PropertyFee.property_id, PropertyFee.position)
            )
        ).all():
            fees[property_id].append(fee)
    out: dict[tuple[Any, ...], quote_totals.Tariff] = {}
    for key, (g, pid) in reps.items():
        # The booking window and max guests are checked per property; these stand-ins only
        # let the shared parts be built and checked once per key.
        terms = _PlanTerms(g.currency, max(1, guests), json.loads(g.los_discounts), 0, None)
        try:
            built = pricing.build_pricing(terms, terms, assigned.get(pid), tax_rows, fees[pid])
        except (Conflict, ValueError):
            continue
        out[key] = quote_totals.Tariff.of(built)
    return out


def _window_allows(window: tuple[int, int | None], stay: Stay, today: date) -> bool:
    """`restrictions.stay_restrictions`' booking-window rule (an invalid window is refused as
    `pricing.build_pricing` refuses it)."""
    try:
        rule = BookingWindow(*window)
    except ValueError:
        return False
    lead = (stay.check_in - today).days
    if lead < rule.min_lead_days:
        return False
    return rule.max_advance_days is None or lead <= rule.max_advance_days


async def search(
    session: AsyncSession,
    agency_id: uuid.UUID,
    stay: Stay,
    guests: quotes.Guests,
    filters: Filters,
    sort: Sort,
    limit: int,
) -> Found:
    """The bookable properties for the stay, each with its quote's total: how many, and the
    first `limit` of them in the order asked for (by total, or by distance then total; then by
    name and id)."""
    if sort == "distance" and filters.latitude is None:
        raise _invalid("sort", "sorting by distance needs lat and lng")
    found = await candidates(session, agency_id, filters, stay, guests.count)
    now = datetime.now(UTC)
    lat, lng, radius = filters.latitude, filters.longitude, filters.radius_km
    # Per group: which of its properties are kept, with their distances (None: all of them).
    kept: list[tuple[Group, list[tuple[int, float | None]] | None]] = []
    for g in found:
        today = ari_store.local_today(g.timezone, now)
        if not _window_allows((g.min_lead_days, g.max_advance_days), stay, today):
            continue
        if lat is None or lng is None:
            kept.append((g, None))
            continue
        near: list[tuple[int, float | None]] = []
        for i, (plat, plng) in enumerate(zip(g.latitudes or (), g.longitudes or (), strict=True)):
            dist = None if plat is None or plng is None else distance_km(lat, lng, plat, plng)
            if radius is None or (dist is not None and dist <= radius):
                near.append((i, dist))
        if near:
            kept.append((g, near))
    if not kept:
        return Found(0, [])
    by_key = await tariffs(session, agency_id, [g for g, _ in kept], guests.count)
    # Many properties share a tariff and a nightly sum: each pair is priced once. Ranked as
    # tuples that sort in the order asked for (ids are unique: nothing after one is compared),
    # ending with what a hit holds: (id, total, currency, distance).
    ranked: list[tuple[Any, ...]] = []
    for g, chosen in kept:
        tariff = by_key.get(g.tariff_key)
        if tariff is None:
            continue
        price = quote_totals.pricer(tariff, stay.nights, guests)
        totals: dict[int, int] = {}
        subtotals, names, ids, currency = g.subtotals, g.names, g.ids, g.currency
        for s in subtotals if chosen is None else [subtotals[i] for i, _ in chosen]:
            if s not in totals:
                totals[s] = price(s)
        if chosen is None:
            each = list(map(totals.__getitem__, subtotals))
            ranked.extend(zip(each, names, ids, ids, each, repeat(currency), repeat(None)))
        elif sort == "distance":
            for i, d in chosen:
                total = totals[subtotals[i]]
                # Properties without a position last.
                ranked.append((d is None, d or 0.0, total, names[i], ids[i], total, currency, d))
        else:
            for i, d in chosen:
                total = totals[subtotals[i]]
                ranked.append((total, names[i], ids[i], ids[i], total, currency, d))
    page = heapq.nsmallest(limit, ranked)
    return Found(len(ranked), [Hit(*entry[-4:]) for entry in page])


async def from_prices(
    session: AsyncSession, property_ids: Sequence[uuid.UUID], today: date | None = None
) -> dict[uuid.UUID, int]:
    """The lowest nightly price of an open night in the next 12 months, per property (default
    plan), in one query."""
    if not property_ids:
        return {}
    start = today or datetime.now(UTC).date()
    rows = await session.execute(
        select(AriRow.property_id, func.min(AriRow.price_minor))
        .join(RatePlan, RatePlan.id == AriRow.rate_plan_id)
        .where(
            RatePlan.is_default,
            AriRow.property_id.in_(list(property_ids)),
            AriRow.day >= start,
            AriRow.day < start + timedelta(days=FROM_PRICE_DAYS),
            AriRow.available,
        )
        .group_by(AriRow.property_id)
    )
    return {pid: int(price) for pid, price in rows.all()}


@dataclass(frozen=True, slots=True)
class CalendarDay:
    day: date
    available: bool
    can_check_in: bool
    can_check_out: bool
    min_stay: int | None
    max_stay: int | None
    price_minor: int | None


def calendar_days(
    rows: Sequence[ari.AriDay],
    occupied: frozenset[date],
    start: date,
    end: date,
    window: BookingWindow,
    today: date,
) -> list[CalendarDay]:
    """Per day of `[start, end)`: open, whether some stay may start there (every night open,
    its length within the arrival's min/max stay, a departure day not closed to departure,
    within the booking window), whether a stay may end there, and the rules and price."""
    by_day = {r.day: r for r in rows}

    def is_open(d: date) -> bool:
        row = by_day.get(d)
        return row is not None and row.available and d not in occupied

    def arrival_ok(d: date) -> bool:
        row = by_day.get(d)
        if row is None or row.closed_to_arrival or not is_open(d):
            return False
        lead = (d - today).days
        if lead < window.min_lead_days:
            return False
        if window.max_advance_days is not None and lead > window.max_advance_days:
            return False
        longest = row.max_stay or row.min_stay + _LOOKAHEAD_DAYS
        nights = 0
        cursor = d
        while nights < longest and is_open(cursor):
            nights += 1
            cursor += ONE_DAY
            departure = by_day.get(cursor)
            if nights >= row.min_stay and not (departure and departure.closed_to_departure):
                return True
        return False

    out: list[CalendarDay] = []
    d = start
    while d < end:
        row = by_day.get(d)
        out.append(
            CalendarDay(
                day=d,
                available=is_open(d),
                can_check_in=arrival_ok(d),
                can_check_out=is_open(d - ONE_DAY)
                and not (row is not None and row.closed_to_departure),
                min_stay=row.min_stay if row else None,
                max_stay=row.max_stay if row else None,
                price_minor=row.price_minor if row else None,
            )
        )
        d += ONE_DAY
    return out


async def calendar(
    session: AsyncSession, prop: Property, start: date, end: date
) -> tuple[str, list[CalendarDay]]:
    plan = await default_plans(session, [prop.id])
    if prop.id not in plan:
        raise NotFound("This property has no rates yet.")
    rp = plan[prop.id]
    read_start = start - ONE_DAY
    read_end = end + timedelta(days=_LOOKAHEAD_DAYS)
    rows = await ari_store.stored_rows(session, rp.id, read_start, read_end)
    ranges = await inventory.occupied(session, [prop.id], read_start, read_end)
    occupied = frozenset(
        day for r in ranges for day in Stay(max(r.start, read_start), min(r.end, read_end)).dates()
    )
    window = BookingWindow(rp.min_lead_days, rp.max_advance_days)
    today = ari_store.local_today(prop.timezone)
    days = await asyncio.to_thread(calendar_days, rows, occupied, start, end, window, today)
    return prop.currency, days
