"""Creating a booking: the rules, the price, the inventory guard, and the booking with its outbox
events and audit row written in one statement."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    FromClause,
    Select,
    bindparam,
    exists,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
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
    outbox,
    pricing,
    properties,
)
from pms.core.booking_events import event_payload
from pms.core.booking_status import CREATABLE, BookingStatus, occupies
from pms.core.bookings.party import check_capacity, inline_guest, party_of, usable_guest
from pms.core.dates import Stay
from pms.core.errors import Conflict, Unprocessable
from pms.core.permissions import Permission
from pms.core.restrictions import StayNotBookable
from pms.core.tenancy import Actor
from pms.models.audit import AuditEntry
from pms.models.booking import Booking, BookingSource
from pms.models.guest import Guest
from pms.models.outbox import OutboxEvent
from pms.models.property import Property
from pms.models.rates import RatePlan
from pms.schemas.booking import BookingCreate

DEFAULT_HOLD_MINUTES = 15

# Restrictions bind the stays the agency takes itself. A channel has already accepted its
# booking under its own copy of the rules; refusing it here would lose a booking.
_RESTRICTED_SOURCES = {BookingSource.DIRECT, BookingSource.MANUAL}


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
        party_of(data.adults, data.children, data.pets, data.children_ages),
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
    are brought up to date (availability.changed is already written)."""
    booking.reference = reference
    make_transient_to_detached(booking)
    session.add(booking)
    if occupies(booking.status) and has_rate_plans:
        await ari_store.recompute_property(
            session, booking.property_id, booking.check_in, booking.check_out
        )


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
    check_capacity(prop, data.adults, data.children)
    guest: Guest | None = None
    if data.guest_id is not None:
        if ctx.guest is None:
            raise guests.not_found()
        guest = usable_guest(ctx.guest)
    elif data.guest is not None:
        guest = await inline_guest(session, actor.require_agency(), data.guest)
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
