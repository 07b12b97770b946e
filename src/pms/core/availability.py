"""The availability calendar from the occupied ranges: one entry per day per property, or the
stays, holds and blocks themselves as ranges (what a calendar draws its bars from)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Select,
    String,
    Text,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import inventory, properties, sqlarrays
from pms.core.booking_status import BLOCK_MARKER, BookingStatus
from pms.core.errors import NotFound, Unprocessable
from pms.core.tenancy import Actor
from pms.models.block import Block, BlockKind
from pms.models.booking import Booking
from pms.models.guest import Guest
from pms.models.inventory import OccupiedRange
from pms.models.property import Property

MAX_PROPERTIES = 500


def _visible_statement(*, owner: bool, named: bool) -> Select[uuid.UUID]:
    """The visible properties' ids by name (``properties.visibility``), of the named ones
    (``ids``) or all: built once per shape, not per request."""
    stmt = (
        select(Property.id)
        .where(
            *properties.visibility(
                bindparam("vis_agency", type_=Property.agency_id.type),
                bindparam("vis_owner", type_=Property.owner_user_id.type) if owner else None,
            )
        )
        .order_by(Property.name)
    )
    if named:
        stmt = stmt.where(Property.id == any_(bindparam("vis_ids", type_=sqlarrays.UUID_ARRAY)))
    return stmt


_VISIBLE = {
    (owner, named): _visible_statement(owner=owner, named=named)
    for owner in (False, True)
    for named in (False, True)
}


async def _visible_ids(
    session: AsyncSession, actor: Actor, property_ids: list[uuid.UUID] | None
) -> list[uuid.UUID]:
    """The requested properties (all visible ones when none are named), by name; owners see only
    their own, and a property the actor cannot see is a 404."""
    if property_ids and len(property_ids) > MAX_PROPERTIES:
        raise Unprocessable(
            f"At most {MAX_PROPERTIES} properties per request.",
            errors=[{"field": "property_ids", "in": "query", "message": "too many"}],
        )
    stmt = _VISIBLE[actor.is_owner, bool(property_ids)]
    params = {
        "vis_agency": actor.require_agency(),
        "vis_owner": actor.user_id,
        "vis_ids": property_ids,
    }
    ids = list((await session.execute(stmt, params)).scalars().all())
    if property_ids and len(ids) != len(set(property_ids)):
        raise NotFound("One or more properties were not found.")
    return ids


def _day_status(status: str) -> str:
    if status == BLOCK_MARKER:
        return "blocked"
    return "hold" if status == BookingStatus.HOLD.value else "booked"


async def calendar(
    session: AsyncSession,
    actor: Actor,
    start: date,
    end: date,
    property_ids: list[uuid.UUID] | None,
) -> dict[str, Any]:
    """The calendar as plain JSON-ready data (shape: ``schemas.booking.Calendar``). Built from
    one joined query into dicts: 200 properties x 31 days is 6,200 entries, and building ORM
    objects and Pydantic models for each one cost more than everything else together."""
    ids = await _visible_ids(session, actor, property_ids)
    n = (end - start).days
    dates = [(start + timedelta(days=i)).isoformat() for i in range(n)]
    # Free days carry no ids or label (the schema's defaults): a third of the bytes.
    by_property: dict[uuid.UUID, list[dict[str, Any]]] = {
        pid: [{"date": d, "status": "free"} for d in dates] for pid in ids
    }
    if ids:
        rows = await session.execute(
            select(
                OccupiedRange.property_id,
                OccupiedRange.start,
                OccupiedRange.end,
                OccupiedRange.status,
                OccupiedRange.booking_id,
                OccupiedRange.block_id,
                Booking.reference,
                Block.kind,
            )
            .outerjoin(Booking, Booking.id == OccupiedRange.booking_id)
            .outerjoin(Block, Block.id == OccupiedRange.block_id)
            .where(inventory.active_overlapping(ids, start, end))
        )
        for pid, r_start, r_end, status, booking_id, block_id, reference, kind in rows:
            day_status = _day_status(status)
            # Only the id that applies is written (the other is null by the schema's default).
            entry = (
                {"status": day_status, "booking_id": str(booking_id), "label": reference}
                if booking_id
                else {
                    "status": day_status,
                    "block_id": str(block_id),
                    "label": f"{BlockKind(kind).value} block",
                }
            )
            days = by_property[pid]
            for i in range(max(0, (r_start - start).days), min(n, (r_end - start).days)):
                days[i] = {"date": dates[i], **entry}
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "properties": [
            {"property_id": str(pid), "days": days} for pid, days in by_property.items()
        ],
    }


def _key(name: str) -> Any:
    # A JSON key as SQL text (a constant of this module, never input): bind parameters would
    # leave json_build_object unable to type them.
    return literal_column(f"'{name}'")


def _ranges_statement(*, names: bool) -> Any:
    """The range form's whole JSON document, built by PostgreSQL in one statement: per
    property (in the order of the ``rng_ids`` array), its ranges ordered by start, each with
    only the keys that apply, overlapping ``[rng_start, rng_end)``. Built once per shape (with
    and without guest names): building it per request cost more CPU than the rest of the
    request."""
    ids = bindparam("rng_ids", type_=sqlarrays.UUID_ARRAY)
    start = bindparam("rng_start", type_=Date)
    end = bindparam("rng_end", type_=Date)
    o = OccupiedRange
    guest_name = (
        func.nullif(
            func.concat_ws(
                " ", func.nullif(Guest.first_name, ""), func.nullif(Guest.last_name, "")
            ),
            "",
        )
        if names
        else null()
    )
    is_booking = o.booking_id.is_not(None)
    entry = func.json_strip_nulls(
        func.json_build_object(
            _key("start"),
            o.start,
            _key("end"),
            o.end,
            _key("kind"),
            case(
                (o.status == BLOCK_MARKER, literal_column("'blocked'")),
                (o.status == BookingStatus.HOLD.value, literal_column("'hold'")),
                else_=literal_column("'booked'"),
            ),
            _key("label"),
            func.coalesce(Booking.reference, cast(Block.kind, String) + literal_column("' block'")),
            _key("booking_id"),
            o.booking_id,
            _key("reference"),
            Booking.reference,
            _key("status"),
            case((is_booking, o.status)),
            _key("source"),
            Booking.source,
            _key("guest_name"),
            guest_name,
            _key("block_id"),
            o.block_id,
            _key("block_kind"),
            Block.kind,
        )
    )
    found = (
        select(o.property_id, o.start, entry.label("entry"))
        .outerjoin(Booking, Booking.id == o.booking_id)
        .outerjoin(Guest, Guest.id == Booking.guest_id)
        .outerjoin(Block, Block.id == o.block_id)
        .where(inventory.active_overlapping(ids, start, end))
        .subquery("found")
    )
    per_property = (
        select(
            found.c.property_id,
            func.json_agg(aggregate_order_by(found.c.entry, found.c.start)).label("ranges"),
        )
        .group_by(found.c.property_id)
        .subquery("per_property")
    )
    wanted = func.unnest(ids).table_valued("id", with_ordinality="n").render_derived(name="wanted")
    prop = func.json_build_object(
        _key("property_id"),
        wanted.c.id,
        _key("ranges"),
        func.coalesce(per_property.c.ranges, literal_column("'[]'::json")),
    )
    document = func.json_build_object(
        _key("start"),
        cast(start, Date),
        _key("end"),
        cast(end, Date),
        _key("properties"),
        func.coalesce(
            func.json_agg(aggregate_order_by(prop, wanted.c.n)), literal_column("'[]'::json")
        ),
    )
    return select(cast(document, Text)).select_from(
        wanted.outerjoin(per_property, per_property.c.property_id == wanted.c.id)
    )


_RANGES = {names: _ranges_statement(names=names) for names in (False, True)}


async def ranges(
    session: AsyncSession,
    actor: Actor,
    start: date,
    end: date,
    property_ids: list[uuid.UUID] | None,
) -> str:
    """The stays, live holds and blocks overlapping ``[start, end)`` per property, as ranges with
    their labels: the JSON document of ``schemas.booking.CalendarRanges``, built in one
    statement from the occupied ranges. Each range keeps its own dates (a bar may run past the
    window). Owners get no guest names: they see their properties' stays, not who the guests
    are or how to reach them."""
    ids = await _visible_ids(session, actor, property_ids)
    params = {"rng_ids": ids, "rng_start": start, "rng_end": end}
    return str((await session.execute(_RANGES[not actor.is_owner], params)).scalar_one())
