"""Guest search, the date picker's calendar and "from" prices, read from the stored ARI rows and
priced by the same quote engine (``core.quotes`` via ``core.pricing``) as bookings.

A property is offered for a stay exactly when its default plan's quote is bookable (min/max
stay, closed to arrival/departure, booking window, max guests, every night open) and no
booking, live hold or block occupies a night: the checks the booking step makes. Everything is
loaded for all candidate properties in a handful of queries and quoted in a worker thread."""

from __future__ import annotations

import asyncio
import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    ARRAY,
    BindParameter,
    Select,
    and_,
    any_,
    bindparam,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.sqltypes import NullType

from pms.core import ari, ari_store, inventory, listing, pricing, quotes
from pms.core.booking_status import INVENTORY_ACTIVE, BookingStatus
from pms.core.dates import ONE_DAY, Stay
from pms.core.errors import Conflict, NotFound, Unprocessable
from pms.core.restrictions import BookingWindow, rows_read_by
from pms.models.inventory import OccupiedRange
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

MAX_CALENDAR_DAYS = 400
# How far past a calendar's end rows are read, so the last days' possible stays can be judged.
_LOOKAHEAD_DAYS = 60
FROM_PRICE_DAYS = 365
# Quoting this many properties takes a few milliseconds; more goes to a worker thread.
_ON_LOOP_QUOTES = 50

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


@dataclass(frozen=True, slots=True)
class Candidate:
    """The columns of a property and its default plan that searching and pricing read."""

    id: uuid.UUID
    name: str
    timezone: str
    currency: str
    max_guests: int
    latitude: float | None
    longitude: float | None
    plan_id: uuid.UUID
    los_discounts: list[dict[str, Any]]
    min_lead_days: int
    max_advance_days: int | None


_SOURCES = {source.value: source for source in ari.RuleSource}


@dataclass(frozen=True, slots=True)
class StoredRows:
    """A plan's stored ARI rows of the dates a stay reads, as the candidates query returns them
    (one sequence per column, `offsets` indexing `dates`); made into `ari.AriDay`s only when the
    property is quoted, in the worker thread."""

    dates: Sequence[date]
    columns: tuple[Sequence[Any], ...]

    def days(self) -> list[ari.AriDay]:
        dates, sources, row = self.dates, _SOURCES, ari.AriDay
        return [
            row(dates[offset], available, price, lo, hi, cta, ctd, sources[source])
            for offset, available, price, lo, hi, cta, ctd, source in zip(
                *self.columns, strict=True
            )
        ]


@dataclass(frozen=True, slots=True)
class Hit:
    candidate: Candidate
    quote: quotes.Quote
    distance_km: float | None


def _uuids(ids: Iterable[uuid.UUID]) -> BindParameter[list[uuid.UUID]]:
    """Many ids as one array parameter (``= ANY(:ids)``): one bind instead of an IN list of a
    thousand, which costs compiling and planning on every search."""
    array_type: Any = ARRAY(PG_UUID(as_uuid=True))
    return bindparam("ids", list(ids), type_=array_type, unique=True)


def _invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors=[{"field": field, "in": "query", "message": message}])


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, a)))


def _filtered(stmt: Select[Any], filters: Filters, guests: int) -> Select[Any]:
    stmt = stmt.where(
        Property.is_listed.is_(True),
        Property.deleted_at.is_(None),
        Property.max_guests >= guests,
    )
    if filters.location:
        pattern = f"%{listing.escape_like(filters.location)}%"
        stmt = stmt.where(
            or_(
                Property.city.ilike(pattern, escape="\\"),
                Property.name.ilike(pattern, escape="\\"),
            )
        )
    if filters.min_bedrooms is not None:
        stmt = stmt.where(Property.bedrooms >= filters.min_bedrooms)
    if filters.amenities:
        stmt = stmt.where(Property.amenities.contains(list(filters.amenities)))
    if filters.radius_km is not None:
        stmt = stmt.where(Property.latitude.is_not(None), Property.longitude.is_not(None))
    return stmt


async def candidates(
    session: AsyncSession, agency_id: uuid.UUID, filters: Filters, stay: Stay, guests: int
) -> list[tuple[Candidate, StoredRows]]:
    """Listed live properties matching the filters that sleep the party, have a default plan
    whose every night of the stay is open, and no booking, live hold or block on those nights,
    each with its plan's stored rows of `rows_read_by(stay)`: one query, so the properties that
    cannot be offered are never loaded or priced.

    The rows come as one array per column and plan (a lateral aggregate over the plan's index
    range), not one result row per day: 1,000 candidates are 1,000 rows, not 8,000."""
    occ = OccupiedRange
    taken = (
        select(occ.id)
        .where(
            occ.property_id == Property.id,
            occ.status.in_(INVENTORY_ACTIVE),
            occ.start < stay.check_out,
            occ.end > stay.check_in,
            ~and_(occ.status == BookingStatus.HOLD.value, occ.hold_expires_at <= func.now()),
        )
        .exists()
    )
    read = rows_read_by(stay)
    t = AriRow.__table__.c

    def column(col: Any) -> Any:
        # Untyped: asyncpg's lists are used as they come, without a processor per element.
        return func.array_agg(aggregate_order_by(col, t.day), type_=NullType())

    rows = (
        select(
            func.count().filter(and_(t.day < stay.check_out, t.available)).label("open_nights"),
            column(t.day - read.check_in).label("offsets"),
            column(t.available).label("available"),
            column(t.price_minor).label("price_minor"),
            column(t.min_stay).label("min_stay"),
            column(t.max_stay).label("max_stay"),
            column(t.closed_to_arrival).label("cta"),
            column(t.closed_to_departure).label("ctd"),
            column(t.min_stay_source).label("source"),
        )
        .where(t.rate_plan_id == RatePlan.id, t.day >= read.check_in, t.day < read.check_out)
        .lateral("ari")
    )
    stmt = (
        select(
            Property.id,
            Property.name,
            Property.timezone,
            Property.currency,
            Property.max_guests,
            Property.latitude,
            Property.longitude,
            RatePlan.id,
            RatePlan.los_discounts,
            RatePlan.min_lead_days,
            RatePlan.max_advance_days,
            rows.c.offsets,
            rows.c.available,
            rows.c.price_minor,
            rows.c.min_stay,
            rows.c.max_stay,
            rows.c.cta,
            rows.c.ctd,
            rows.c.source,
        )
        .join(RatePlan, and_(RatePlan.property_id == Property.id, RatePlan.is_default))
        .join(rows, true())
    )
    stmt = _filtered(stmt.where(Property.agency_id == agency_id), filters, guests).where(
        ~taken, rows.c.open_nights == stay.nights
    )
    dates = list(read.dates())
    out: list[tuple[Candidate, StoredRows]] = []
    for r in (await session.execute(stmt)).all():
        prop = Candidate(
            id=r[0],
            name=r[1],
            timezone=r[2],
            currency=r[3],
            max_guests=r[4],
            latitude=float(r[5]) if r[5] is not None else None,
            longitude=float(r[6]) if r[6] is not None else None,
            plan_id=r[7],
            los_discounts=r[8],
            min_lead_days=r[9],
            max_advance_days=r[10],
        )
        out.append((prop, StoredRows(dates, tuple(r[11:19]))))
    return out


async def properties_of(session: AsyncSession, hits: Sequence[Hit]) -> list[Property]:
    """The full rows of the hits shown, in the hits' order."""
    ids = [h.candidate.id for h in hits]
    if not ids:
        return []
    rows = await session.execute(select(Property).where(Property.id.in_(ids)))
    by_id = {p.id: p for p in rows.scalars().all()}
    return [by_id[i] for i in ids]


async def default_plans(
    session: AsyncSession, property_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, RatePlan]:
    rows = await session.execute(
        select(RatePlan).where(RatePlan.property_id.in_(property_ids), RatePlan.is_default)
    )
    return {p.property_id: p for p in rows.scalars().all()}


async def pricings(
    session: AsyncSession, agency_id: uuid.UUID, props: Sequence[Candidate]
) -> dict[uuid.UUID, quotes.PropertyPricing]:
    """`pricing.property_pricing` for many properties in three queries; a property whose
    pricing is inconsistent (e.g. a fee in another currency) is left out: it cannot be quoted."""
    ids = [p.id for p in props]
    if not ids:
        return {}
    assigned = {
        row[0].property_id: row
        for row in (
            await session.execute(
                select(PropertyPricing, VisitorTaxLocation, PolicyRow)
                .outerjoin(
                    VisitorTaxLocation,
                    VisitorTaxLocation.id == PropertyPricing.visitor_tax_location_id,
                )
                .outerjoin(PolicyRow, PolicyRow.id == PropertyPricing.cancellation_policy_id)
                .where(PropertyPricing.property_id == any_(_uuids(ids)))
            )
        ).all()
    }
    tax_rows = (
        (await session.execute(select(TaxClass).where(TaxClass.agency_id == agency_id)))
        .scalars()
        .all()
    )
    fees: dict[uuid.UUID, list[Fee]] = defaultdict(list)
    for property_id, fee in (
        await session.execute(
            select(PropertyFee.property_id, Fee)
            .join(Fee, Fee.id == PropertyFee.fee_id)
            .where(PropertyFee.property_id == any_(_uuids(ids)))
            .order_by(PropertyFee.property_id, PropertyFee.position)
        )
    ).all():
        fees[property_id].append(fee)
    out: dict[uuid.UUID, quotes.PropertyPricing] = {}
    for prop in props:
        try:
            out[prop.id] = pricing.build_pricing(
                prop, prop, assigned.get(prop.id), tax_rows, fees.get(prop.id, [])
            )
        except (Conflict, ValueError):
            continue
    return out


def _quote_all(
    jobs: list[tuple[Candidate, quotes.PropertyPricing, StoredRows]],
    stay: Stay,
    guests: quotes.Guests,
    filters: Filters,
    now: datetime,
) -> list[Hit]:
    hits: list[Hit] = []
    todays: dict[str, date] = {}
    for prop, priced, rows in jobs:
        dist = None
        if filters.latitude is not None and filters.longitude is not None:
            if prop.latitude is not None and prop.longitude is not None:
                dist = distance_km(
                    filters.latitude, filters.longitude, prop.latitude, prop.longitude
                )
            if filters.radius_km is not None and (dist is None or dist > filters.radius_km):
                continue
        today = todays.get(prop.timezone)
        if today is None:
            today = todays[prop.timezone] = ari_store.local_today(prop.timezone, now)
        result = quotes.quote(priced, rows.days(), stay, guests, today=today)
        if result.bookable:
            hits.append(Hit(prop, result, dist))
    return hits


async def search(
    session: AsyncSession,
    agency_id: uuid.UUID,
    stay: Stay,
    guests: quotes.Guests,
    filters: Filters,
    sort: Sort,
) -> list[Hit]:
    """The bookable properties for the stay, sorted."""
    if sort == "distance" and filters.latitude is None:
        raise _invalid("sort", "sorting by distance needs lat and lng")
    found = await candidates(session, agency_id, filters, stay, guests.count)
    if not found:
        return []
    priced = await pricings(session, agency_id, [p for p, _ in found])
    jobs = [(p, priced[p.id], rows) for p, rows in found if p.id in priced]
    now = datetime.now(UTC)
    if len(jobs) > _ON_LOOP_QUOTES:
        hits = await asyncio.to_thread(_quote_all, jobs, stay, guests, filters, now)
    else:
        hits = _quote_all(jobs, stay, guests, filters, now)
    if sort == "distance":
        hits.sort(
            key=lambda h: (
                h.distance_km is None,  # properties without a position last
                h.distance_km or 0.0,
                h.quote.total.amount_minor,
                h.candidate.name,
            )
        )
    else:
        hits.sort(key=lambda h: (h.quote.total.amount_minor, h.candidate.name, h.candidate.id))
    return hits


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
    if end <= start:
        raise _invalid("end", "end must be after start")
    if (end - start).days > MAX_CALENDAR_DAYS:
        raise _invalid("end", f"at most {MAX_CALENDAR_DAYS} days per call")
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
