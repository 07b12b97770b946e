"""Bookings: create, change, move through the status table; every write passes the inventory
guard and records its outbox events and audit entry in the same transaction."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    FromClause,
    Select,
    and_,
    bindparam,
    exists,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from pms.core import (
    ari_store,
    audit,
    guests,
    holds,
    inventory,
    listing,
    outbox,
    pricing,
    properties,
)
from pms.core.booking_events import event_payload, status_changed
from pms.core.booking_status import CREATABLE, OCCUPYING, BookingStatus, can_transition, occupies
from pms.core.dates import Stay
from pms.core.errors import Conflict, DomainError, NotFound, Unprocessable
from pms.core.listing import Sortable
from pms.core.permissions import Permission
from pms.core.quotes import Guests
from pms.core.restrictions import StayNotBookable
from pms.core.tenancy import Actor
from pms.logs import request_id
from pms.models.audit import AuditEntry
from pms.models.booking import Booking, BookingSource
from pms.models.guest import Guest
from pms.models.outbox import OutboxEvent
from pms.models.property import Property
from pms.models.rates import RatePlan
from pms.schemas.booking import BookingCreate, BookingUpdate, GuestInline

DEFAULT_HOLD_MINUTES = 15

SORTABLE: dict[str, Sortable] = {
    "check_in": Booking.check_in,
    "check_out": Booking.check_out,
    "created_at": Booking.created_at,
    "reference": Booking.reference,
    "status": Booking.status,
}

# The action names of POST /bookings/{id}/{action}, the status each leads to, and who may.
ACTIONS: dict[str, tuple[BookingStatus, Permission]] = {
    "confirm": (BookingStatus.CONFIRMED, Permission.BOOKINGS_OPERATE),
    "check-in": (BookingStatus.CHECKED_IN, Permission.BOOKINGS_OPERATE),
    "check-out": (BookingStatus.CHECKED_OUT, Permission.BOOKINGS_OPERATE),
    "no-show": (BookingStatus.NO_SHOW, Permission.BOOKINGS_OPERATE),
    "cancel": (BookingStatus.CANCELLED, Permission.BOOKINGS_CANCEL),
    "decline": (BookingStatus.DECLINED, Permission.BOOKINGS_CANCEL),
}


# Reactions other modules register (e.g. the Direct Booking Engine's guest e-mails); each runs
# in the transaction of the change, so it happens if and only if the change commits.
CreatedHook = Callable[[AsyncSession, Booking], Awaitable[None]]
StatusHook = Callable[[AsyncSession, Booking, BookingStatus], Awaitable[None]]
AFTER_CREATE: list[CreatedHook] = []
AFTER_STATUS_CHANGE: list[StatusHook] = []


class InvalidTransition(Conflict):
    code = "invalid-transition"
    title = "Invalid status change"


class StaleVersion(Conflict):
    code = "stale-version"
    title = "Booking changed meanwhile"


def visible(actor: Actor) -> Select[Booking, Guest]:
    """Every booking query starts here: the agency's bookings, narrowed to owned properties.
    (The guest is None only for a hold whose checkout has not reached the guest step.)"""
    stmt = (
        select(Booking, Guest)
        .outerjoin(Guest, Guest.id == Booking.guest_id)
        .where(Booking.agency_id == actor.require_agency())
    )
    if actor.is_owner:
        owned = select(Property.id).where(Property.owner_user_id == actor.user_id)
        stmt = stmt.where(Booking.property_id.in_(owned))
    return stmt


async def get(
    session: AsyncSession, actor: Actor, booking_id: uuid.UUID, *, lock: bool = False
) -> tuple[Booking, Guest | None]:
    stmt = visible(actor).where(Booking.id == booking_id)
    if lock:
        stmt = stmt.with_for_update(of=Booking)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound("Booking not found.")
    return row[0], row[1]


async def list_(
    session: AsyncSession,
    actor: Actor,
    *,
    property_id: uuid.UUID | None,
    statuses: list[BookingStatus],
    source: BookingSource | None,
    guest_id: uuid.UUID | None,
    start: date | None,
    end: date | None,
    sort: str,
    limit: int,
    offset: int,
) -> tuple[list[tuple[Booking, Guest | None]], int]:
    stmt = visible(actor)
    if property_id is not None:
        stmt = stmt.where(Booking.property_id == property_id)
    if statuses:
        stmt = stmt.where(Booking.status.in_(statuses))
    if source is not None:
        stmt = stmt.where(Booking.source == source)
    if guest_id is not None:
        stmt = stmt.where(Booking.guest_id == guest_id)
    if start is not None:
        stmt = stmt.where(Booking.check_out > start)
    if end is not None:
        stmt = stmt.where(Booking.check_in < end)
    stmt = listing.order_by(stmt, f"{sort},id", {**SORTABLE, "id": Booking.id})
    total = (
        await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))
    ).scalar_one()
    rows = (await session.execute(stmt.limit(limit).offset(offset))).all()
    return [(r[0], r[1]) for r in rows], int(total)


def _usable(guest: Guest) -> Guest:
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
        return _usable(await guests.get(session, actor, guest_id))
    if inline is None:
        raise Unprocessable("A guest is required.")
    return await _inline_guest(session, actor.require_agency(), inline)


async def _inline_guest(session: AsyncSession, agency_id: uuid.UUID, inline: GuestInline) -> Guest:
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


def _check_guests(prop: Property, adults: int, children: int) -> None:
    # Infants sleep in a cot and do not count against max_guests (as on the channels).
    if adults + children > prop.max_guests:
        raise Unprocessable(
            f"{adults + children} guests exceed this property's maximum of {prop.max_guests}.",
            errors=[{"field": "adults", "in": "body", "message": "max_guests exceeded"}],
            rule="max_guests",
        )


# Restrictions bind the stays the agency takes itself. A channel has already accepted its
# booking under its own copy of the rules; refusing it here would lose a booking.
_RESTRICTED_SOURCES = {BookingSource.DIRECT, BookingSource.MANUAL}
# Children of unknown age count as paying visitor tax (the oldest a child can be).
_UNKNOWN_CHILD_AGE = 17


def _guests(adults: int, children: int, pets: int, ages: list[int] | None = None) -> Guests:
    return Guests(
        adults, tuple(ages if ages is not None else [_UNKNOWN_CHILD_AGE] * children), pets
    )


async def _priced(
    session: AsyncSession,
    prop: Property,
    data: BookingCreate,
) -> dict[str, Any] | None:
    """The quote stored on a new booking. A stay that breaks a restriction is refused (422,
    one error per rule) unless a role that may change rates overrides it explicitly. A
    property without a rate plan is not priced and has no restrictions to break."""
    priced = await pricing.booking_quote(
        session,
        prop,
        Stay(data.check_in, data.check_out),
        _guests(data.adults, data.children, data.pets, data.children_ages),
    )
    if priced is None:
        return None
    quote, reasons = priced
    enforced = data.source in _RESTRICTED_SOURCES and data.status is not BookingStatus.INQUIRY
    if reasons and enforced and not data.override_restrictions:
        raise StayNotBookable(reasons)
    doc = quote.model_dump(mode="json")
    doc["restrictions_overridden"] = bool(reasons) and data.override_restrictions
    return doc


@dataclass
class _CreateContext:
    """What a create reads in its first statement."""

    prop: Property
    guest: Guest | None
    now: datetime  # the transaction's timestamp: the created_at/updated_at the defaults give
    has_rate_plans: bool
    expired_hold_ids: list[uuid.UUID] | None  # holds of the property expired just now


def _context_statement(*, owner: bool, guest: bool) -> Select[Any]:
    """Built once per shape, so each create pays neither for building the statement nor for
    its cache key. (The bind parameters must not be named like a column of ``bookings``: the
    UPDATE in the CTE would take such execution parameters as values to SET.)"""
    property_id = bindparam("ctx_property", type_=Property.id.type)
    agency_id = bindparam("ctx_agency", type_=Property.agency_id.type)
    expired = holds.stale_holds_update(property_id).returning(Booking.id).cte("expired_holds")
    stmt = select(Property).where(
        Property.id == property_id,
        *properties.visibility(
            agency_id,
            bindparam("ctx_owner", type_=Property.owner_user_id.type) if owner else None,
        ),
    )
    if guest:
        stmt = stmt.add_columns(Guest).outerjoin(
            Guest, guests.by_id(agency_id, bindparam("ctx_guest", type_=Guest.id.type))
        )
    return stmt.add_columns(
        func.now(),
        exists().where(RatePlan.property_id == Property.id),
        select(func.array_agg(expired.c.id)).scalar_subquery(),
    )


_CONTEXT_STATEMENTS = {
    (owner, guest): _context_statement(owner=owner, guest=guest)
    for owner in (False, True)
    for guest in (False, True)
}


async def _create_context(
    session: AsyncSession, actor: Actor, data: BookingCreate
) -> _CreateContext:
    """One round trip: expire the property's stale holds, read the property (as the actor may
    see it: ``properties.visibility``), the guest by id (``guests.by_id``), whether the
    property has rate plans and the transaction's now(). Raises what ``properties.get`` and
    ``guests.get`` raise."""
    stmt = _CONTEXT_STATEMENTS[actor.is_owner, data.guest_id is not None]
    params = {
        "ctx_property": data.property_id,
        "ctx_agency": actor.require_agency(),
        "ctx_owner": actor.user_id,
        "ctx_guest": data.guest_id,
    }
    row = (await session.execute(stmt, params)).one_or_none()
    if row is None:
        raise properties.not_found()
    values: tuple[Any, ...] = tuple(row)
    if data.guest_id is None:
        values = (values[0], None, *values[1:])
    prop, guest, now, has_plans, expired_ids = values
    return _CreateContext(prop, guest, now, has_plans, expired_ids)


# A booking, its outbox events and its audit row go to the database in one statement, and so
# do several bookings written together (``create_many``). The column lists are the booking's
# attributes set by `_new_booking` and the keys of `outbox.event` and `audit.entry`; each bind
# parameter carries its column's type (enums, JSONB), so values are converted as the ORM would
# convert them. The reference comes from the column default; the JSON documents that name it
# (the booking.created payload, the audit snapshot) get it from the inserted row.
_BOOKING_COLUMNS = (
    "id",
    "agency_id",
    "property_id",
    "guest_id",
    "status",
    "source",
    "channel_booking_id",
    "check_in",
    "check_out",
    "adults",
    "children",
    "infants",
    "pets",
    "notes",
    "hold_expires_at",
    "quote",
    "version",
    "created_at",
    "updated_at",
)
_EVENT_COLUMNS = (
    "agency_id",
    "event_type",
    "aggregate_type",
    "aggregate_id",
    "payload",
    "request_id",
)
_AUDIT_COLUMNS = (
    "agency_id",
    "actor_user_id",
    "entity_type",
    "entity_id",
    "action",
    "before",
    "after",
    "request_id",
)


def _arrays(prefix: str, table: FromClause, columns: Sequence[str]) -> str:
    """``unnest`` arguments: one array bind parameter per column, cast to the column's type."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return ", ".join(
        f"CAST(:{prefix}{c} AS {table.c[c].type.compile(dialect=dialect)}[])" for c in columns
    )


def _with_reference(column: str, columns: Sequence[str], alias: str) -> str:
    """The select list of ``columns`` from ``alias``, where the JSON document ``column`` gets
    the reference of its booking (``nb``, just inserted) merged in."""
    return ", ".join(
        f"{alias}.{c} || jsonb_build_object('reference', nb.reference)"
        if c == column
        else f"{alias}.{c}"
        for c in columns
    )


# The bookings, then their events (ordered: the ids follow the order they are listed in, and
# booking.created, first, names the reference) and audit rows, each a column-wise array per
# column: one statement, prepared once, for one booking or sixty.
_CREATE = text(
    f"WITH b AS (SELECT * FROM unnest({_arrays('b_', Booking.__table__, _BOOKING_COLUMNS)}) "
    f"AS b({', '.join(_BOOKING_COLUMNS)})), "
    f"new_booking AS (INSERT INTO bookings ({', '.join(_BOOKING_COLUMNS)}) "
    f"SELECT {', '.join(_BOOKING_COLUMNS)} FROM b RETURNING id, reference), "
    f"new_events AS (INSERT INTO outbox_events ({', '.join(_EVENT_COLUMNS)}) "
    "SELECT "
    + ", ".join(
        "CASE WHEN e.named THEN e.payload || jsonb_build_object('reference', nb.reference) "
        "ELSE e.payload END"
        if c == "payload"
        else f"e.{c}"
        for c in _EVENT_COLUMNS
    )
    + f" FROM unnest({_arrays('e_', OutboxEvent.__table__, _EVENT_COLUMNS)}, "
    "CAST(:e_booking AS uuid[]), CAST(:e_named AS boolean[])) WITH ORDINALITY "
    f"AS e({', '.join(_EVENT_COLUMNS)}, booking, named, n) "
    "JOIN new_booking nb ON nb.id = e.booking ORDER BY e.n), "
    f"new_entry AS (INSERT INTO audit_log ({', '.join(_AUDIT_COLUMNS)}) "
    f"SELECT {_with_reference('after', _AUDIT_COLUMNS, 'a')} "
    f"FROM unnest({_arrays('a_', AuditEntry.__table__, _AUDIT_COLUMNS)}, "
    f"CAST(:a_booking AS uuid[])) AS a({', '.join(_AUDIT_COLUMNS)}, booking) "
    "JOIN new_booking nb ON nb.id = a.booking) "
    "SELECT id, reference FROM new_booking"
)


_Converter = Callable[[Any], Any] | None


@functools.cache
def _converters(dialect: Dialect) -> dict[str, list[tuple[str, _Converter]]]:
    """Per table prefix of ``_CREATE``: each column and its bind processor (None: as it is)."""
    return {
        prefix: [(c, table.c[c].type.bind_processor(dialect)) for c in columns]
        for prefix, table, columns in (
            ("b_", Booking.__table__, _BOOKING_COLUMNS),
            ("e_", OutboxEvent.__table__, _EVENT_COLUMNS),
            ("a_", AuditEntry.__table__, _AUDIT_COLUMNS),
        )
    }


class _Rows:
    """The parameters of ``_CREATE``: the rows of each table, column by column, each value
    converted as the ORM would convert it for that column (the dialect's bind processors:
    enums to their values, JSON documents serialised)."""

    def __init__(self, dialect: Dialect) -> None:
        self._convert = _converters(dialect)
        self.params: dict[str, list[Any]] = {
            f"{prefix}{c}": [] for prefix, cs in self._convert.items() for c, _ in cs
        }
        self.params |= {"e_booking": [], "e_named": [], "a_booking": []}

    def _add(self, prefix: str, values: dict[str, Any]) -> None:
        for c, convert in self._convert[prefix]:
            v = values[c]
            self.params[prefix + c].append(v if convert is None or v is None else convert(v))

    def add(self, actor: Actor, booking: Booking) -> None:
        """Booking ``booking``, its events (booking.created, and availability.changed if it
        takes nights) and its audit row; these carry the current request id."""
        self._add("b_", {c: getattr(booking, c) for c in _BOOKING_COLUMNS})
        events = [
            outbox.event(
                agency_id=booking.agency_id,
                event_type="booking.created",
                aggregate_type="booking",
                aggregate_id=booking.id,
                payload=event_payload(booking),
            )
        ]
        if occupies(booking.status):
            events.append(
                outbox.availability_event(
                    booking.agency_id, booking.property_id, booking.check_in, booking.check_out
                )
            )
        for i, event in enumerate(events):
            self._add("e_", event)
            self.params["e_booking"].append(booking.id)
            self.params["e_named"].append(i == 0)
        self._add("a_", audit.created_entry(actor, "booking", booking))
        self.params["a_booking"].append(booking.id)


def _check_creatable(data: BookingCreate) -> None:
    if data.status not in CREATABLE or data.status is BookingStatus.CONFLICT:
        raise Unprocessable(
            f"A booking cannot be created as {data.status.value}.",
            errors=[
                {
                    "field": "status",
                    "in": "body",
                    "message": "inquiry, requested, hold or confirmed",
                }
            ],
        )


def _new_booking(
    prop: Property,
    guest: Guest | None,
    data: BookingCreate,
    quote: dict[str, Any] | None,
    now: datetime,
    hold_minutes: int,
) -> Booking:
    """The new row (not yet written); ``now`` is the transaction's timestamp, the
    created_at/updated_at the column defaults would give."""
    return Booking(
        id=uuid.uuid4(),
        agency_id=prop.agency_id,
        property_id=prop.id,
        guest_id=guest.id if guest else None,
        reference=None,  # the column default's, filled in once written
        status=data.status,
        source=data.source,
        channel_booking_id=data.channel_booking_id,
        check_in=data.check_in,
        check_out=data.check_out,
        adults=data.adults,
        children=data.children,
        infants=data.infants,
        pets=data.pets,
        notes=data.notes,
        hold_expires_at=datetime.now(UTC) + timedelta(minutes=hold_minutes)
        if data.status is BookingStatus.HOLD
        else None,
        quote=quote,
        version=1,
        created_at=now,
        updated_at=now,
    )


def _duplicate_channel_booking(exc: IntegrityError) -> bool:
    return "uq_bookings_channel" in str(exc.orig)


async def _written(
    session: AsyncSession, booking: Booking, reference: str, has_rate_plans: bool
) -> None:
    """What follows the INSERT of a booking: the object joins the session as if loaded (so
    later changes to it, e.g. a hold's token, are flushed as UPDATEs), its nights' ARI rows
    are brought up to date (availability.changed is already written) and the hooks run."""
    booking.reference = reference
    make_transient_to_detached(booking)
    session.add(booking)
    if occupies(booking.status) and has_rate_plans:
        await ari_store.recompute_property(
            session, booking.property_id, booking.check_in, booking.check_out
        )
    for created_hook in AFTER_CREATE:
        await created_hook(session, booking)


async def create(
    session: AsyncSession,
    actor: Actor,
    data: BookingCreate,
    *,
    hold_minutes: int = DEFAULT_HOLD_MINUTES,
    savepoint: bool = True,
) -> tuple[Booking, Guest | None]:
    """Create a booking in the caller's transaction. ``savepoint=False`` (one API request, whose
    transaction ends with any error) skips the inventory guard's savepoint: a clash then rolls
    the transaction back before the 409 is raised (see ``inventory.guarded``)."""
    _check_creatable(data)
    ctx = await _create_context(session, actor, data)
    prop = ctx.prop
    _check_guests(prop, data.adults, data.children)
    guest: Guest | None = None
    if data.guest_id is not None:
        if ctx.guest is None:
            raise guests.not_found()
        guest = _usable(ctx.guest)
    elif data.guest is not None:
        guest = await _inline_guest(session, actor.require_agency(), data.guest)
    if ctx.expired_hold_ids:
        expired = await session.scalars(
            select(Booking)
            .where(Booking.id.in_(ctx.expired_hold_ids))
            .order_by(Booking.id)
            .execution_options(populate_existing=True)
        )
        await holds.record_expired(session, list(expired.all()))
    if data.override_restrictions:
        actor.require(Permission.RATES_WRITE)
    # Without a rate plan there is nothing to price, no restriction and no ARI row to update.
    quote = await _priced(session, prop, data) if ctx.has_rate_plans else None
    booking = _new_booking(prop, guest, data, quote, ctx.now, hold_minutes)
    rows = _Rows(session.get_bind().dialect)
    rows.add(actor, booking)
    try:
        async with inventory.guarded(
            session,
            prop.id,
            data.check_in,
            data.check_out,
            savepoint=savepoint,
            agency_id=prop.agency_id,
        ):
            result = await session.execute(_CREATE, rows.params)
    except IntegrityError as exc:
        if _duplicate_channel_booking(exc):
            raise Conflict(
                "This channel booking is already recorded.",
                conflict_type="duplicate_channel_booking",
            ) from None
        raise
    await _written(session, booking, result.one().reference, ctx.has_rate_plans)
    return booking, guest


def _batch_context_statement(*, owner: bool) -> Select[Any]:
    """What ``create_many`` reads, in one statement for any number of bookings: per item (its
    1-based position ``n``) the property as the actor may see it (``properties.visibility``),
    the guest by id (``guests.by_id``), whether the property has rate plans, and now(). An
    item whose property is not visible has no row. The ids come as two arrays (one statement
    for any count, where IN would make one per count)."""
    ids = postgresql.ARRAY(postgresql.UUID(as_uuid=True))
    agency_id = bindparam("ctx_agency", type_=Property.agency_id.type)
    item = (
        func.unnest(bindparam("ctx_properties", type_=ids), bindparam("ctx_guests", type_=ids))
        .table_valued("property_id", "guest_id", with_ordinality="n")
        .render_derived(name="item")
    )
    return (
        select(item.c.n, Property, Guest, exists().where(RatePlan.property_id == Property.id))
        .add_columns(func.now())
        .select_from(item)
        .join(
            Property,
            and_(
                Property.id == item.c.property_id,
                *properties.visibility(
                    agency_id,
                    bindparam("ctx_owner", type_=Property.owner_user_id.type) if owner else None,
                ),
            ),
        )
        .outerjoin(Guest, guests.by_id(agency_id, item.c.guest_id))
    )


_BATCH_CONTEXT_STATEMENTS = {
    owner: _batch_context_statement(owner=owner) for owner in (False, True)
}


@dataclass(frozen=True)
class NewBooking:
    """One booking of ``create_many``, with the id of the request that asked for it."""

    data: BookingCreate
    request_id: str | None = None


async def create_many(
    session: AsyncSession, actor: Actor, items: Sequence[NewBooking]
) -> list[tuple[Booking, Guest | None] | None]:
    """Create several bookings of one actor in the caller's transaction, with one read for all
    of them (properties, guests) and one write (bookings, events, audit rows), where ``create``
    spends a round trip or two on each. The same rules apply, from the same functions.

    An item ``create`` would refuse (unknown property or guest, too many guests, a restriction,
    a status that cannot be created) is skipped and answered None: run it through ``create``,
    which raises the error. A clash or a duplicate channel booking makes the write fail and
    raises ``IntegrityError``: the caller must roll the transaction back, then write the
    items again in smaller groups, or each with ``create``, which says what it clashed with.
    Holds of these properties that expired are left to the expiry job (``create`` expires them
    in passing); one overlapping a new booking makes the write fail like a clash, so ``create``
    then expires it and succeeds."""
    agency_id = actor.require_agency()
    out: list[tuple[Booking, Guest | None] | None] = [None] * len(items)
    params = {
        "ctx_agency": agency_id,
        "ctx_owner": actor.user_id,
        "ctx_properties": [i.data.property_id for i in items],
        "ctx_guests": [i.data.guest_id for i in items],
    }
    found = {
        n - 1: (prop, guest, has_plans, now)
        for n, prop, guest, has_plans, now in (
            await session.execute(_BATCH_CONTEXT_STATEMENTS[actor.is_owner], params)
        ).all()
    }
    todo: list[tuple[int, Booking, Guest | None, bool]] = []
    for n, item in enumerate(items):
        data = item.data
        with request_id(item.request_id):
            try:
                _check_creatable(data)
                if n not in found:
                    raise properties.not_found()
                prop, found_guest, has_plans, now = found[n]
                _check_guests(prop, data.adults, data.children)
                if data.override_restrictions:
                    actor.require(Permission.RATES_WRITE)
                guest: Guest | None = None
                if data.guest_id is not None:
                    if found_guest is None:
                        raise guests.not_found()
                    guest = _usable(found_guest)
                quote = await _priced(session, prop, data) if has_plans else None
                if data.guest_id is None and data.guest is not None:
                    # Last, so that a refused item never leaves a guest behind.
                    guest = await _inline_guest(session, agency_id, data.guest)
            except DomainError:
                continue
            todo.append(
                (
                    n,
                    _new_booking(prop, guest, data, quote, now, DEFAULT_HOLD_MINUTES),
                    guest,
                    has_plans,
                )
            )
    if not todo:
        return out
    rows = _Rows(session.get_bind().dialect)
    for n, booking, _, _ in todo:
        with request_id(items[n].request_id):
            rows.add(actor, booking)
    references = {r.id: r.reference for r in await session.execute(_CREATE, rows.params)}
    for n, booking, guest, has_plans in todo:
        with request_id(items[n].request_id):
            await _written(session, booking, references[booking.id], has_plans)
        out[n] = (booking, guest)
    return out


async def update(
    session: AsyncSession, actor: Actor, booking_id: uuid.UUID, data: BookingUpdate
) -> tuple[Booking, Guest | None]:
    booking, guest = await get(session, actor, booking_id, lock=True)
    if booking.version != data.version:
        raise StaleVersion(
            f"The booking is at version {booking.version}, not {data.version}; reload and retry.",
            current_version=booking.version,
        )
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    for field in ("property_id", "check_in", "check_out", "adults", "children", "infants", "pets"):
        if field in changes and changes[field] is None:
            raise Unprocessable(
                f"{field} cannot be null.",
                errors=[{"field": field, "in": "body", "message": "cannot be null"}],
            )
    changes = {k: v for k, v in changes.items() if getattr(booking, k) != v}
    if not changes:
        return booking, guest
    before = audit.snapshot(booking)
    old = (booking.property_id, booking.check_in, booking.check_out)
    new_property = changes.get("property_id", booking.property_id)
    check_in = changes.get("check_in", booking.check_in)
    check_out = changes.get("check_out", booking.check_out)
    if check_out <= check_in:
        raise Unprocessable(
            "check_out must be after check_in.",
            errors=[{"field": "check_out", "in": "body", "message": "not after check_in"}],
        )
    prop = await properties.get(session, actor, new_property)
    _check_guests(
        prop, changes.get("adults", booking.adults), changes.get("children", booking.children)
    )
    if new_property != booking.property_id:
        await holds.expire_stale_holds(session, new_property)
    requote = changes.keys() & {
        "property_id",
        "check_in",
        "check_out",
        "adults",
        "children",
        "pets",
    }
    priced = (
        await pricing.booking_quote(
            session,
            prop,
            Stay(check_in, check_out),
            _guests(
                changes.get("adults", booking.adults),
                changes.get("children", booking.children),
                changes.get("pets", booking.pets),
            ),
            exclude_booking=booking.id,
        )
        if requote
        else None
    )
    async with inventory.guarded(
        session, new_property, check_in, check_out, exclude_booking=booking.id
    ):
        for key, value in changes.items():
            setattr(booking, key, value)
        if requote:
            # Changes are re-priced but not refused for restrictions (see README).
            booking.quote = priced[0].model_dump(mode="json") if priced else None
        booking.version += 1
    outbox.emit(
        session,
        agency_id=booking.agency_id,
        event_type="booking.updated",
        aggregate_type="booking",
        aggregate_id=booking.id,
        payload={**event_payload(booking), "changed": sorted(changes)},
    )
    if occupies(booking.status) and old != (booking.property_id, check_in, check_out):
        await ari_store.availability_changed(session, booking.agency_id, old[0], old[1], old[2])
        await ari_store.availability_changed(
            session, booking.agency_id, booking.property_id, check_in, check_out
        )
    await audit.record(
        session,
        actor,
        agency_id=booking.agency_id,
        entity_type="booking",
        entity_id=booking.id,
        action="updated",
        before=before,
        after=audit.snapshot(booking),
    )
    return booking, guest


async def transition(
    session: AsyncSession, actor: Actor, booking_id: uuid.UUID, target: BookingStatus
) -> tuple[Booking, Guest | None]:
    booking, guest = await get(session, actor, booking_id, lock=True)
    current = booking.status
    if current is target:
        return booking, guest  # same status: a no-op, so retries are harmless
    if not can_transition(current, target):
        raise InvalidTransition(
            f"A {current.value} booking cannot become {target.value}.",
            from_status=current.value,
            to_status=target.value,
        )
    before = audit.snapshot(booking)
    if occupies(target) and not occupies(current):
        await holds.expire_stale_holds(session, booking.property_id)
    async with inventory.guarded(
        session,
        booking.property_id,
        booking.check_in,
        booking.check_out,
        exclude_booking=booking.id,
    ):
        booking.status = target
        booking.version += 1
        if target is BookingStatus.CANCELLED:
            booking.cancelled_at = datetime.now(UTC)
        if target is not BookingStatus.HOLD:
            booking.hold_expires_at = None
    await status_changed(session, booking, current)
    await audit.record(
        session,
        actor,
        agency_id=booking.agency_id,
        entity_type="booking",
        entity_id=booking.id,
        action=f"status:{target.value}",
        before=before,
        after=audit.snapshot(booking),
    )
    for status_hook in AFTER_STATUS_CHANGE:
        await status_hook(session, booking, current)
    return booking, guest


async def has_future_stays(session: AsyncSession, prop: Property) -> None:
    """Property delete guard: a property with stays still to come cannot be deleted."""
    today = datetime.now(UTC).date()
    count = (
        await session.execute(
            select(func.count())
            .select_from(Booking)
            .where(
                Booking.property_id == prop.id,
                Booking.status.in_(OCCUPYING),
                Booking.check_out > today,
            )
        )
    ).scalar_one()
    if count:
        raise Conflict(
            f"The property has {count} current or future booking(s); cancel or move them first.",
            conflict_type="future_bookings",
        )


async def _export(session: AsyncSession, guest: Guest) -> list[dict[str, Any]]:
    rows = await session.execute(select(Booking).where(Booking.guest_id == guest.id))
    return [audit.snapshot(b) for b in rows.scalars().all()]


async def _erase(session: AsyncSession, guest: Guest) -> None:
    # Bookings stay for accounting; free text that may hold personal data goes.
    rows = await session.execute(select(Booking).where(Booking.guest_id == guest.id))
    for b in rows.scalars().all():
        b.notes = None


properties.DELETE_GUARDS.append(has_future_stays)
guests.EXPORT_SOURCES["bookings"] = _export
guests.ERASE_HOOKS.append(_erase)
