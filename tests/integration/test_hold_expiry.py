"""Holds past hold_expires_at stop blocking: the scheduler job expires them in every agency, and
whoever books next expires them in passing; both record the same events."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from pms import db
from pms.core import holds
from pms.core.booking_status import BookingStatus
from pms.models.booking import Booking
from tests.factories import Agency, full_agency
from tests.services import eventually

START, END = "2034-06-10", "2034-06-13"


async def hold(client: httpx.AsyncClient, a: Agency, start: str = START, end: str = END) -> str:
    return await hold_on(client, a, a.property_id, start, end)


async def hold_on(
    client: httpx.AsyncClient, a: Agency, property_id: str, start: str = START, end: str = END
) -> str:
    r = await client.post(
        "/api/v1/bookings",
        json={
            "property_id": property_id,
            "check_in": start,
            "check_out": end,
            "guest_id": a.guest_id,
            "status": "hold",
        },
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    assert r.json()["hold_expires_at"]
    booking_id: str = r.json()["id"]
    return booking_id


async def make_stale(admin: asyncpg.Connection, booking_id: str) -> None:
    await admin.execute(
        "UPDATE bookings SET hold_expires_at = now() - interval '1 minute' WHERE id = $1::uuid",
        booking_id,
    )


async def status(client: httpx.AsyncClient, a: Agency, booking_id: str) -> str:
    r = await client.get(f"/api/v1/bookings/{booking_id}", headers=a.auth())
    assert r.status_code == 200, r.text
    value: str = r.json()["status"]
    return value


async def events_of(admin: asyncpg.Connection, booking_id: str) -> list[dict[str, Any]]:
    rows = await admin.fetch(
        "SELECT event_type, payload::text AS payload FROM outbox_events "
        "WHERE aggregate_id = $1 ORDER BY id",
        booking_id,
    )
    return [{"type": r["event_type"], "payload": r["payload"]} for r in rows]


async def test_the_job_expires_stale_holds_in_every_agency_and_frees_the_dates(
    client: httpx.AsyncClient, admin: asyncpg.Connection
) -> None:
    a = await full_agency(client, "A")
    b = await full_agency(client, "B")
    stale_a, stale_b = await hold(client, a), await hold(client, b)
    fresh = await hold(client, a, "2034-07-01", "2034-07-03")
    await make_stale(admin, stale_a)
    await make_stale(admin, stale_b)

    assert await holds.expire_stale_holds_everywhere() == 2
    assert await status(client, a, stale_a) == "expired"
    assert await status(client, b, stale_b) == "expired"
    assert await status(client, a, fresh) == "hold"
    for agency, booking_id in ((a, stale_a), (b, stale_b)):
        change = await admin.fetchrow(
            "SELECT agency_id::text, payload->>'from_status' AS from_status, "
            "payload->>'status' AS to_status FROM outbox_events "
            "WHERE aggregate_id = $1 AND event_type = 'booking.status_changed'",
            booking_id,
        )
        assert dict(change) == {
            "agency_id": agency.id,
            "from_status": "hold",
            "to_status": "expired",
        }
        freed = await admin.fetchval(
            "SELECT count(*) FROM outbox_events WHERE event_type = 'availability.changed' "
            "AND payload->>'property_id' = $1 AND payload->>'start' = $2 AND payload->>'end' = $3",
            agency.property_id,
            START,
            END,
        )
        assert freed == 2  # taken by the hold, freed by its expiry
        audited = await admin.fetchval(
            "SELECT actor_user_id IS NULL FROM audit_log "
            "WHERE entity_id = $1 AND action = 'status:expired'",
            booking_id,
        )
        assert audited is True
    assert await holds.expire_stale_holds_everywhere() == 0

    r = await client.post(
        "/api/v1/bookings",
        json={
            "property_id": a.property_id,
            "check_in": START,
            "check_out": END,
            "guest_id": a.guest_id,
        },
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text


async def test_booking_over_a_stale_hold_expires_it_with_the_same_events(
    client: httpx.AsyncClient, admin: asyncpg.Connection
) -> None:
    a = await full_agency(client)
    stale = await hold(client, a)
    await make_stale(admin, stale)
    r = await client.post(
        "/api/v1/bookings",
        json={
            "property_id": a.property_id,
            "check_in": START,
            "check_out": END,
            "guest_id": a.guest_id,
        },
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    assert await status(client, a, stale) == "expired"
    types = [e["type"] for e in await events_of(admin, stale)]
    assert types == ["booking.created", "booking.status_changed"]


async def test_a_hold_stops_blocking_at_its_expiry_not_after_it(
    client: httpx.AsyncClient, admin: asyncpg.Connection
) -> None:
    """domain.md: a hold blocks "until hold_expires_at", so at that instant it is stale. And
    what ``expire_stale_holds`` records is the hold as it now is, even when the caller's
    transaction had loaded it before."""
    a = await full_agency(client)
    on_time = await hold(client, a)
    later = await hold(client, a, "2034-07-01", "2034-07-03")
    async with db.transaction(uuid.UUID(a.id)) as session:
        loaded = await session.get(Booking, uuid.UUID(on_time))
        assert loaded is not None
        assert loaded.status is BookingStatus.HOLD
        # Both in this transaction's own now(): one expires at it, one a second after it.
        await session.execute(
            text(
                "UPDATE bookings SET hold_expires_at = now() + CASE id WHEN :later "
                "THEN interval '1 second' ELSE interval '0' END WHERE id IN (:on_time, :later)"
            ),
            {"on_time": uuid.UUID(on_time), "later": uuid.UUID(later)},
        )
        assert await holds.expire_stale_holds(session) == 1
        assert (loaded.status, loaded.version) == (BookingStatus.EXPIRED, 2)
    assert await status(client, a, on_time) == "expired"
    assert await status(client, a, later) == "hold"
    assert await expiry_of(admin, on_time) == {
        "event": {"status": "expired", "from_status": "hold", "version": 2},
        "audit": {
            "agency_id": a.id,
            "actor_user_id": None,
            "entity_type": "booking",
            "before": {"status": "hold", "version": 1},
            "after": {"status": "expired", "version": 2},
        },
    }


async def expiry_of(admin: asyncpg.Connection, booking_id: str) -> dict[str, Any]:
    """The expiry's status-change event and audit row, as JSON values."""
    event = await admin.fetchrow(
        "SELECT payload->>'status' AS status, payload->>'from_status' AS from_status, "
        "(payload->>'version')::int AS version FROM outbox_events "
        "WHERE aggregate_id = $1 AND event_type = 'booking.status_changed'",
        booking_id,
    )
    audit = await admin.fetchrow(
        "SELECT agency_id::text, actor_user_id, entity_type, before::text, after::text "
        "FROM audit_log WHERE entity_id = $1 AND action = 'status:expired'",
        booking_id,
    )
    assert event is not None
    assert audit is not None
    return {
        "event": dict(event),
        "audit": {
            **dict(audit),
            "before": json.loads(audit["before"]),
            "after": json.loads(audit["after"]),
        },
    }


@pytest.mark.parametrize("by", ["the sweep", "a booking", "a block"])
async def test_an_expiry_is_a_new_version_with_its_event_and_audit_row(
    client: httpx.AsyncClient, admin: asyncpg.Connection, by: str
) -> None:
    """Expiring a hold changes the booking like any other status change: its version goes up
    by one (an edit made against the hold's version is refused as stale), and it records the
    same event and audit row whichever write or job expired it."""
    a = await full_agency(client)
    stale = await hold(client, a)
    await make_stale(admin, stale)
    if by == "the sweep":
        assert await holds.expire_stale_holds_everywhere() == 1
    else:
        r = await client.post(
            "/api/v1/bookings" if by == "a booking" else "/api/v1/blocks",
            json={"property_id": a.property_id}
            | (
                {"check_in": START, "check_out": END, "guest_id": a.guest_id}
                if by == "a booking"
                else {"start": START, "end": END, "kind": "maintenance"}
            ),
            headers=a.auth(),
        )
        assert r.status_code == 201, r.text
    assert await expiry_of(admin, stale) == {
        "event": {"status": "expired", "from_status": "hold", "version": 2},
        "audit": {
            "agency_id": a.id,
            "actor_user_id": None,
            "entity_type": "booking",
            "before": {"status": "hold", "version": 1},
            "after": {"status": "expired", "version": 2},
        },
    }
    r = await client.get(f"/api/v1/bookings/{stale}", headers=a.auth())
    assert (r.json()["status"], r.json()["version"]) == ("expired", 2)
    r = await client.patch(
        f"/api/v1/bookings/{stale}", json={"version": 1, "notes": "n"}, headers=a.auth()
    )
    assert r.status_code == 409, r.text


async def test_a_write_expires_the_stale_holds_of_its_own_property_only(
    client: httpx.AsyncClient, admin: asyncpg.Connection
) -> None:
    """A booking or block expires, in its own transaction, the stale holds of the property it
    writes to (domain.md), and no other property's: those wait for a write to their own
    property or the sweep (locking them would make writes to different properties wait on
    each other)."""
    a = await full_agency(client)
    elsewhere = await hold_on(client, a, a.owned_property_id)
    await make_stale(admin, elsewhere)
    blocked = await hold(client, a)
    await make_stale(admin, blocked)
    r = await client.post(
        "/api/v1/blocks",
        json={"property_id": a.property_id, "start": START, "end": END, "kind": "maintenance"},
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    assert await status(client, a, blocked) == "expired"
    assert await status(client, a, elsewhere) == "hold"
    booked = await hold(client, a, "2034-07-01", "2034-07-03")
    await make_stale(admin, booked)
    r = await client.post(
        "/api/v1/bookings",
        json={
            "property_id": a.property_id,
            "check_in": "2034-07-01",
            "check_out": "2034-07-03",
            "guest_id": a.guest_id,
        },
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    assert await status(client, a, booked) == "expired"
    assert await status(client, a, elsewhere) == "hold"
    assert await holds.expire_stale_holds_everywhere() == 1
    assert await status(client, a, elsewhere) == "expired"


async def calendar_of(client: httpx.AsyncClient, a: Agency) -> tuple[list[str], list[str]]:
    """The hold's nights on the day calendar, and the kinds of the range calendar's bars."""
    r = await client.get(
        f"/api/v1/properties/{a.property_id}/availability",
        params={"start": START, "end": END},
        headers=a.auth(),
    )
    assert r.status_code == 200, r.text
    days = [d["status"] for d in r.json()["days"]]
    r = await client.get(
        "/api/v1/calendar/ranges",
        params={"start": START, "end": END, "property_id": a.property_id},
        headers=a.auth(),
    )
    assert r.status_code == 200, r.text
    (prop,) = [p for p in r.json()["properties"] if p["property_id"] == a.property_id]
    return days, [bar["kind"] for bar in prop["ranges"]]


async def test_a_lapsed_hold_frees_its_nights_on_the_calendar(
    client: httpx.AsyncClient, admin: asyncpg.Connection
) -> None:
    a = await full_agency(client)
    live = await hold(client, a)
    assert await calendar_of(client, a) == (["hold"] * 3, ["hold"])
    await make_stale(admin, live)
    # Not swept yet (no job ran, nobody booked): still free on both calendars at once.
    assert await calendar_of(client, a) == (["free"] * 3, [])
    assert await status(client, a, live) == "hold"


async def test_a_booking_moved_onto_a_stale_holds_nights_is_accepted(
    client: httpx.AsyncClient, admin: asyncpg.Connection
) -> None:
    a = await full_agency(client)
    stale = await hold(client, a)
    await make_stale(admin, stale)
    r = await client.post(
        "/api/v1/bookings",
        json={
            "property_id": a.owned_property_id,
            "check_in": START,
            "check_out": END,
            "guest_id": a.guest_id,
        },
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    moved = r.json()
    r = await client.patch(
        f"/api/v1/bookings/{moved['id']}",
        json={"version": moved["version"], "property_id": a.property_id},
        headers=a.auth(),
    )
    assert r.status_code == 200, r.text
    assert r.json()["property_id"] == a.property_id
    # The move expired the hold in passing, with the status change's events.
    assert await status(client, a, stale) == "expired"
    types = [e["type"] for e in await events_of(admin, stale)]
    assert types == ["booking.created", "booking.status_changed"]


async def test_the_scheduled_task_runs_the_job_in_the_worker(
    client: httpx.AsyncClient, admin: asyncpg.Connection, celery_app: Any
) -> None:
    a = await full_agency(client)
    stale = await hold(client, a)
    await make_stale(admin, stale)
    await asyncio.to_thread(celery_app.send_task, "pms.bookings.expire_holds")

    async def expired() -> bool:
        return await status(client, a, stale) == "expired"

    await eventually(expired, 30, "the worker to expire the hold")
