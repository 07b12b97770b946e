"""The inventory guard's own functions against a real database: which ranges occupy a window
(``occupied``), which one a refused write clashes with (``find_clash``), the 409 naming it
(``conflict_error``), and which integrity errors are a double booking."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import Date, bindparam, select, text
from sqlalchemy.exc import IntegrityError

from pms import db
from pms.core import inventory, sqlarrays
from pms.models.inventory import OccupiedRange
from tests.factories import Agency, full_agency

D = date(2036, 3, 1)


def day(n: int) -> date:
    return D + timedelta(days=n)


async def book(
    client: httpx.AsyncClient,
    a: Agency,
    start: int,
    end: int,
    status: str = "confirmed",
    property_id: str = "",
) -> str:
    r = await client.post(
        "/api/v1/bookings",
        json={
            "property_id": property_id or a.property_id,
            "check_in": day(start).isoformat(),
            "check_out": day(end).isoformat(),
            "guest_id": a.guest_id,
            "status": status,
        },
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    booking_id: str = r.json()["id"]
    return booking_id


async def block(client: httpx.AsyncClient, a: Agency, start: int, end: int) -> str:
    r = await client.post(
        "/api/v1/blocks",
        json={
            "property_id": a.property_id,
            "start": day(start).isoformat(),
            "end": day(end).isoformat(),
        },
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    block_id: str = r.json()["id"]
    return block_id


def spans(ranges: list[Any]) -> list[tuple[str, int, int]]:
    return [(str(r.property_id), (r.start - D).days, (r.end - D).days) for r in ranges]


async def test_occupied_is_the_active_ranges_overlapping_the_window_in_order(
    client: httpx.AsyncClient, admin: asyncpg.Connection
) -> None:
    """domain.md: confirmed stays, live holds and blocks occupy their nights, half-open; a
    cancelled stay and a hold past hold_expires_at do not. Ranges come per property, by date."""
    a = await full_agency(client)
    p, q = a.property_id, a.owned_property_id
    await book(client, a, 8, 10)  # made first, listed last: the order is by date
    await book(client, a, 0, 2)  # ends where the window starts: not in it
    await book(client, a, 2, 4)
    cancelled = await book(client, a, 4, 6)
    assert (
        await client.post(f"/api/v1/bookings/{cancelled}/cancel", headers=a.auth())
    ).status_code == 200
    lapsed = await book(client, a, 4, 5, status="hold")
    await admin.execute(
        "UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE id = $1::uuid",
        lapsed,
    )
    live = await book(client, a, 5, 6, status="hold")
    await block(client, a, 6, 7)
    await book(client, a, 12, 14)  # starts where the window ends: not in it
    await book(client, a, 3, 5, property_id=q)
    async with db.transaction(uuid.UUID(a.id)) as session:
        one = await inventory.occupied(session, [uuid.UUID(p)], day(2), day(12))
        both = await inventory.occupied(session, [uuid.UUID(p), uuid.UUID(q)], day(2), day(12))
    assert spans(one) == [(p, 2, 4), (p, 5, 6), (p, 6, 7), (p, 8, 10)]
    assert [r.status for r in one] == ["confirmed", "hold", "block", "confirmed"]
    by_property = sorted([(p, spans(one)), (q, [(q, 3, 5)])])
    assert spans(both) == by_property[0][1] + by_property[1][1]
    # The order is the function's, not the plan's: with a plan that reads the table in its
    # physical order (the stay made first comes first there) and sorts it, as PostgreSQL may
    # choose for another table's statistics, the ranges still come per property, by date.
    async with db.transaction(uuid.UUID(a.id)) as session:
        await session.execute(text("SET LOCAL enable_indexscan = off"))
        await session.execute(text("SET LOCAL enable_bitmapscan = off"))
        scanned = await inventory.occupied(session, [uuid.UUID(p), uuid.UUID(q)], day(2), day(12))
    assert spans(scanned) == spans(both)
    # The same ranges when the ids and the window are bind parameters of a statement built
    # once (as the calendar's range form builds its statement at import).
    once = (
        select(OccupiedRange)
        .where(
            inventory.active_overlapping(
                bindparam("ids", type_=sqlarrays.UUID_ARRAY),
                bindparam("start", type_=Date),
                bindparam("end", type_=Date),
            )
        )
        .order_by(OccupiedRange.property_id, OccupiedRange.start)
    )
    async with db.transaction(uuid.UUID(a.id)) as session:
        values = {"ids": [uuid.UUID(p), uuid.UUID(q)], "start": day(2), "end": day(12)}
        bound = list((await session.execute(once, values)).scalars().all())
    assert spans(bound) == spans(both)
    # domain.md: a hold blocks "until hold_expires_at": at that instant its nights are free.
    async with db.transaction(uuid.UUID(a.id)) as session:
        await session.execute(
            text("UPDATE bookings SET hold_expires_at = now() WHERE id = :id"),
            {"id": uuid.UUID(live)},
        )
        at_expiry = await inventory.occupied(session, [uuid.UUID(p)], day(2), day(12))
    assert spans(at_expiry) == [(p, 2, 4), (p, 6, 7), (p, 8, 10)]


async def test_a_clash_is_the_earliest_range_sharing_a_night_named_by_its_kind(
    client: httpx.AsyncClient,
) -> None:
    a = await full_agency(client)
    p = uuid.UUID(a.property_id)
    # Made in the reverse order of their dates, and the other property's range first of all:
    # the clash is the earliest by date on this property, not the first row found.
    await book(client, a, -1, 3, property_id=a.owned_property_id)
    second = await book(client, a, 3, 6)
    first = await book(client, a, 0, 3)
    held = await book(client, a, 8, 10, status="hold")
    blocked = await block(client, a, 10, 12)
    cancelled = await book(client, a, 14, 16)
    assert (
        await client.post(f"/api/v1/bookings/{cancelled}/cancel", headers=a.auth())
    ).status_code == 200
    async with db.transaction(uuid.UUID(a.id)) as session:

        async def clash(start: int, end: int, **exclude: Any) -> tuple[Any, ...] | None:
            c = await inventory.find_clash(session, p, day(start), day(end), **exclude)
            if c is None:
                return None
            return (c.conflict_type, (c.start - D).days, (c.end - D).days, c.booking_id, c.block_id)

        # Sharing the night of day 2 with the first only, though it ends where the second begins.
        assert await clash(2, 3) == ("booking", 0, 3, uuid.UUID(first), None)
        assert await clash(3, 4) == ("booking", 3, 6, uuid.UUID(second), None)
        assert await clash(1, 5) == ("booking", 0, 3, uuid.UUID(first), None)
        # A booking never clashes with itself when it moves; other ranges still do.
        assert await clash(1, 5, exclude_booking=uuid.UUID(first)) == (
            "booking",
            3,
            6,
            uuid.UUID(second),
            None,
        )
        assert await clash(1, 3, exclude_booking=uuid.UUID(first)) is None
        assert await clash(9, 11) == ("hold", 8, 10, uuid.UUID(held), None)
        assert await clash(11, 13) == ("block", 10, 12, None, uuid.UUID(blocked))
        assert await clash(10, 12, exclude_block=uuid.UUID(blocked)) is None
        assert await clash(9, 12, exclude_block=uuid.UUID(blocked)) == (
            "hold",
            8,
            10,
            uuid.UUID(held),
            None,
        )
        # Back to back is no clash, and a cancelled stay frees its nights.
        assert await clash(6, 8) is None
        assert await clash(12, 14) is None
        assert await clash(14, 16) is None


def test_the_409_names_the_clash_or_says_the_nights_were_just_taken() -> None:
    booking_id = uuid.uuid4()
    clash = inventory.Clash("hold", day(1), day(4), booking_id, None)
    error = inventory.conflict_error(clash, day(2), day(3))
    assert error.status == 409
    assert error.detail == (
        f"The nights {day(2)} to {day(3)} overlap a hold from {day(1)} to {day(4)}."
    )
    assert error.extra == {
        "conflict_type": "hold",
        "clash": {
            "start": day(1).isoformat(),
            "end": day(4).isoformat(),
            "booking_id": str(booking_id),
            "block_id": None,
        },
    }
    block_id = uuid.uuid4()
    error = inventory.conflict_error(
        inventory.Clash("block", day(1), day(4), None, block_id), day(2), day(3)
    )
    assert error.extra["clash"]["block_id"] == str(block_id)
    assert error.extra["clash"]["booking_id"] is None
    gone = inventory.conflict_error(None, day(2), day(3))
    assert gone.status == 409
    assert gone.detail == f"The nights {day(2)} to {day(3)} were just taken; try again."
    assert gone.extra == {"conflict_type": "booking", "clash": None}


class _Orig(Exception):
    def __init__(self, message: str, sqlstate: str | None = None, pgcode: str | None = None):
        super().__init__(message)
        if sqlstate is not None:
            self.sqlstate = sqlstate
        if pgcode is not None:
            self.pgcode = pgcode


@pytest.mark.parametrize(
    ("orig", "exclusion"),
    [
        (_Orig("conflicting key value", sqlstate="23P01"), True),
        (_Orig("conflicting key value", pgcode="23P01"), True),
        (_Orig(f'violates exclusion constraint "{inventory.EXCLUSION_CONSTRAINT}"'), True),
        (_Orig("duplicate key value", sqlstate="23505"), False),
        (_Orig("duplicate key value", pgcode="23505"), False),
        (_Orig("violates foreign key constraint", sqlstate="23503"), False),
    ],
)
def test_only_an_exclusion_violation_is_a_double_booking(orig: Exception, exclusion: bool) -> None:
    """A double booking is SQLSTATE 23P01 (or the constraint's name); any other integrity
    error is not a clash and must not become a 409 naming one."""
    assert inventory._is_exclusion_violation(IntegrityError("INSERT", {}, orig)) is exclusion
