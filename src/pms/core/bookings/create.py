"""Creating a booking: the rules, the price, the inventory guard, and the booking with its outbox
events and audit row written in one statement."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    union_all,
)
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
from pms.core.ari import AriDay
from pms.core.booking_events import event_payload
from pms.core.booking_status import CREATABLE, BookingStatus, occupies
from pms.core.bookings.party import check_capacity, inline_guest, party_of, usable_guest
from pms.core.dates import Stay
from pms.core.errors import Conflict, Unprocessable
from pms.core.permissions import Permission
from pms.core.restrictions import StayNotBookable, rows_read_by
from pms.core.tenancy import Actor
from pms.models.audit import AuditEntry
from pms.models.booking import Booking, BookingSource
from pms.models.guest import Guest
from pms.models.outbox import OutboxEvent
from pms.models.plain import Plain
from pms.models.property import Property
from pms.models.rates import PropertyFee, PropertyPricing, RatePlan
from pms.prepared import Prepared
from pms.schemas.booking import BookingCreate

DEFAULT_HOLD_MINUTES = 15

# Restrictions bind the stays the agency takes itself. A channel has already accepted its
# booking under its own copy of the rules; refusing it here would lose a booking.
_RESTRICTED_SOURCES = {BookingSource.DIRECT, BookingSource.MANUAL}


async def _priced(
    session: AsyncSession, ctx: _CreateContext, data: BookingCreate
) -> dict[str, Any] | None:
    """The quote stored on a new booking, on the property's default plan. A stay that breaks
    a restriction is refused (422, one error per rule) unless a role that may change rates
    overrides it explicitly. A property without a rate plan is not priced and has no
    restrictions to break."""
    if ctx.default_plan is None:
        return None
    quote, reasons = await pricing.plan_quote(
        session,
        ctx.prop,
        ctx.default_plan,
        Stay(data.check_in, data.check_out),
        party_of(data.adults, data.children, data.pets, data.children_ages),
        extras=ctx.has_pricing_extras,
        # Holds expired by the first statement have had their nights recompiled since.
        rows=None if ctx.expired_hold_ids else ctx.stored_rows,
    )
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
    default_plan: RatePlan | None
    has_pricing_extras: bool  # a pricing assignment or fees (`pricing.property_pricing`)
    expired_hold_ids: list[uuid.UUID] | None  # holds of the property expired just now
    stored_rows: list[AriDay]  # the default plan's rows that decide the stay (`rows_read_by`)


_BOOKING = Plain(Booking)
_PROPERTY = Plain(Property)
_GUEST = Plain(Guest)
_DEFAULT_PLAN = Plain(RatePlan, RatePlan.__table__.alias("default_plan"))


def _context_statement(*, owner: bool, guest: bool) -> Select[Any]:
    """Built once per shape, so each create pays neither for building the statement nor for
    its cache key. The entities are read as plain columns (`Plain`): loading them through the
    ORM cost more than the round trip. (The bind parameters must not be named like a column of
    ``bookings``: the UPDATE in the CTE would take such execution parameters as values to
    SET.)"""
    property_id = bindparam("ctx_property", type_=Property.id.type)
    agency_id = bindparam("ctx_agency", type_=Property.agency_id.type)
    expired = holds.stale_holds_update(property_id).cte("expired_holds")
    props = Property.__table__.c
    plans = RatePlan.__table__.c
    default = _DEFAULT_PLAN.source.c
    stmt = select(*_PROPERTY.columns).where(
        props.id == property_id,
        *properties.visibility(
            agency_id,
            bindparam("ctx_owner", type_=Property.owner_user_id.type) if owner else None,
        ),
    )
    if guest:
        stmt = stmt.add_columns(*_GUEST.columns).join_from(
            Property.__table__,
            Guest.__table__,
            guests.by_id(agency_id, bindparam("ctx_guest", type_=Guest.id.type)),
            isouter=True,
        )
    return stmt.join_from(
        Property.__table__,
        _DEFAULT_PLAN.source,
        and_(default.property_id == props.id, default.is_default),
        isouter=True,
    ).add_columns(
        func.now(),
        exists().where(plans.property_id == props.id),
        *_DEFAULT_PLAN.columns,
        or_(
            exists().where(PropertyPricing.__table__.c.property_id == props.id),
            exists().where(PropertyFee.__table__.c.property_id == props.id),
        ),
        select(func.array_agg(expired.c.id)).scalar_subquery(),
        ari_store.stored_rows_array(
            default.id,
            bindparam("ctx_rows_start", type_=Date),
            bindparam("ctx_rows_end", type_=Date),
        ),
    )


_CONTEXT_STATEMENTS = {
    (owner, guest): Prepared(_context_statement(owner=owner, guest=guest))
    for owner in (False, True)
    for guest in (False, True)
}


async def _create_context(
    session: AsyncSession, actor: Actor, data: BookingCreate
) -> _CreateContext:
    """One round trip: expire the property's stale holds, read the property (as the actor may
    see it: ``properties.visibility``), the guest by id (``guests.by_id``), whether the
    property has rate plans, the default plan's stored rows of the stay and the
    transaction's now(). Raises what ``properties.get`` and ``guests.get`` raise."""
    stmt = _CONTEXT_STATEMENTS[actor.is_owner, data.guest_id is not None]
    read = rows_read_by(Stay(data.check_in, data.check_out))
    params = {
        "ctx_property": data.property_id,
        "ctx_agency": actor.require_agency(),
        "ctx_owner": actor.user_id,
        "ctx_guest": data.guest_id,
        "ctx_rows_start": read.check_in,
        "ctx_rows_end": read.check_out,
    }
    rows = await stmt.execute(session, params)
    if not rows:
        raise properties.not_found()
    values = rows[0]
    at = len(_PROPERTY)
    prop = _PROPERTY.build(values[:at])
    guest = None
    if data.guest_id is not None:
        if values[at] is not None:  # the guest's id: None when no guest of the agency matched
            guest = _GUEST.build(values[at : at + len(_GUEST)])
        at += len(_GUEST)
    now, has_plans = values[at : at + 2]
    at += 2
    plan_values = values[at : at + len(_DEFAULT_PLAN)]
    default_plan = _DEFAULT_PLAN.build(plan_values) if plan_values[0] is not None else None
    extras, expired_ids, rows = values[at + len(_DEFAULT_PLAN) :]
    return _CreateContext(
        prop, guest, now, has_plans, default_plan, extras, expired_ids, ari_store.rows_of(rows)
    )


# A booking, its outbox events and its audit row go to the database in one statement: the
# INSERT of the booking, and the INSERTs of its events and its audit row as data-modifying CTEs
# that read the booking's reference (the column default) from it. booking.created, first, and
# the audit snapshot name that reference. The column lists are the booking's attributes set by
# `_new_booking` and the keys of `outbox.event` and `audit.entry`; each bind parameter has its
# column's type, so values are converted as the ORM would convert them.
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


def _create_statement(events: int, *, takes_nights: bool) -> Select[Any]:
    """The statement for a booking with ``events`` outbox events (the first names the
    reference); parameters ``b_<column>``, ``e<i>_<column>`` and ``a_<column>``. With
    ``takes_nights`` it also closes the stay's nights in the property's ARI rows
    (``ari_store.nights_taken``; parameter ``n_request_id``)."""
    bookings_t: Table = Booking.__table__  # type: ignore[assignment]
    events_t: Table = OutboxEvent.__table__  # type: ignore[assignment]
    audit_t: Table = AuditEntry.__table__  # type: ignore[assignment]
    new_booking = (
        insert(bookings_t)
        .values({c: bindparam(f"b_{c}", type_=bookings_t.c[c].type) for c in _BOOKING_COLUMNS})
        .returning(bookings_t.c.id, bookings_t.c.reference)
        .cte("new_booking")
    )
    reference = func.jsonb_build_object("reference", new_booking.c.reference)

    def event(i: int) -> Select[Any]:
        values = []
        for c in outbox.EVENT_COLUMNS:
            value = bindparam(f"e{i}_{c}", type_=events_t.c[c].type)
            values.append(value.op("||")(reference) if c == "payload" and i == 0 else value)
        return select(*values).select_from(new_booking)

    new_events = (
        insert(events_t)
        .from_select(list(outbox.EVENT_COLUMNS), union_all(*(event(i) for i in range(events))))
        .cte("new_events")
    )
    entry = [
        bindparam(f"a_{c}", type_=audit_t.c[c].type).op("||")(reference)
        if c == "after"
        else bindparam(f"a_{c}", type_=audit_t.c[c].type)
        for c in audit.ENTRY_COLUMNS
    ]
    new_entry = (
        insert(audit_t)
        .from_select(list(audit.ENTRY_COLUMNS), select(*entry).select_from(new_booking))
        .cte("new_entry")
    )
    written = select(new_booking.c.id, new_booking.c.reference).add_cte(new_events, new_entry)
    if takes_nights:
        stay = {c: bindparam(f"b_{c}", type_=bookings_t.c[c].type) for c in _NIGHTS}
        taken = ari_store.nights_taken(
            stay["property_id"],
            stay["check_in"],
            stay["check_out"],
            bindparam("n_request_id", type_=events_t.c.request_id.type),
        )
        written = written.add_columns(taken.label("plans_locked"))
    return written


_NIGHTS = ("property_id", "check_in", "check_out")

# Built once: with booking.created only (a stay that takes no nights), with
# availability.changed too, and with that and the nights' update (a stay that takes nights of a
# property with rate plans).
_CREATE = {
    (events, nights): Prepared(_create_statement(events, takes_nights=nights))
    for events, nights in ((1, False), (2, False), (2, True))
}


def _create_params(
    actor: Actor, booking: Booking, *, has_rate_plans: bool
) -> tuple[Prepared, dict[str, Any]]:
    """The statement and parameters that write ``booking``, its events (booking.created, and
    availability.changed if it takes nights) and its audit row, and close its nights in the
    property's ARI rows if it takes nights of any plan; the events carry the current request
    id."""
    params = {f"b_{c}": getattr(booking, c) for c in _BOOKING_COLUMNS}
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
    for i, values in enumerate(events):
        params |= {f"e{i}_{c}": values[c] for c in outbox.EVENT_COLUMNS}
    entry = audit.created_entry(actor, "booking", booking)
    params |= {f"a_{c}": entry[c] for c in audit.ENTRY_COLUMNS}
    takes_nights = len(events) == 2 and has_rate_plans
    if takes_nights:
        params["n_request_id"] = outbox.current_request_id()
    return _CREATE[len(events), takes_nights], params


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
    return _BOOKING.new(
        dict(
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
            refund_minor=None,
            refund_currency=None,
            version=1,
            created_at=now,
            updated_at=now,
        )
    )


def _duplicate_channel_booking(exc: IntegrityError) -> bool:
    return "uq_bookings_channel" in str(exc.orig)


def _written(session: AsyncSession, booking: Booking, reference: str) -> None:
    """What follows the INSERT of a booking: the object joins the session as if loaded, so
    later changes to it (e.g. a hold's token) are flushed as UPDATEs."""
    booking.reference = reference
    make_transient_to_detached(booking)
    session.add(booking)


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
        await holds.record_expired(session, ctx.expired_hold_ids)
    if data.override_restrictions:
        actor.require(Permission.RATES_WRITE)
    # Without a rate plan there is nothing to price, no restriction and no ARI row to update.
    quote = await _priced(session, ctx, data)
    booking = _new_booking(prop, guest, data, quote, ctx.now, hold_minutes)
    statement, params = _create_params(actor, booking, has_rate_plans=ctx.has_rate_plans)
    try:
        async with inventory.guarded(
            session,
            prop.id,
            data.check_in,
            data.check_out,
            savepoint=savepoint,
            agency_id=prop.agency_id,
        ):
            ((_, reference, *_),) = await statement.execute(session, params)
    except IntegrityError as exc:
        if _duplicate_channel_booking(exc):
            raise Conflict(
                "This channel booking is already recorded.",
                conflict_type="duplicate_channel_booking",
            ) from None
        raise
    _written(session, booking, reference)
    return booking, guest
