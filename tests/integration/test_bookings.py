"""Bookings: creation, the inventory guard, the status table, versions, and owner views."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from pms.core.booking_status import BLOCK_MARKER, OCCUPYING, TRANSITIONS, BookingStatus
from pms.core.permissions import Role
from pms.models.inventory import EXCLUSION_CONSTRAINT
from tests.factories import Agency, full_agency
from tests.services import plain

D = date(2031, 7, 1)


def day(n: int) -> str:
    return (D + timedelta(days=n)).isoformat()


@pytest.fixture
async def agency(client: httpx.AsyncClient) -> Agency:
    return await full_agency(client)


def booking_body(a: Agency, start: int, end: int, **extra: Any) -> dict[str, Any]:
    return {
        "property_id": a.property_id,
        "check_in": day(start),
        "check_out": day(end),
        "adults": 2,
        "guest": {"email": "guest@example.com", "last_name": "Gast", "first_name": "Greta"},
        **extra,
    }


async def book(
    client: httpx.AsyncClient, a: Agency, start: int, end: int, **extra: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/bookings", json=booking_body(a, start, end, **extra), headers=a.auth()
    )


async def test_create_assigns_a_reference_and_finds_the_guest_by_email(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    r1 = await book(client, agency, 0, 3)
    assert r1.status_code == 201, r1.text
    b = r1.json()
    assert re.fullmatch(r"PMS-\d{4}-\d{6}", b["reference"])
    assert b["nights"] == 3
    assert b["status"] == "confirmed"
    r2 = await book(client, agency, 3, 5, guest={"email": "GUEST@example.com", "last_name": "Gast"})
    assert r2.status_code == 201, r2.text
    assert r2.json()["guest"]["id"] == b["guest"]["id"]
    assert r2.json()["reference"] != b["reference"]


async def test_overlap_is_409_naming_the_clash_and_back_to_back_is_fine(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    first = (await book(client, agency, 2, 5)).json()
    r = await book(client, agency, 4, 6)
    assert r.status_code == 409
    body = r.json()
    assert body["conflict_type"] == "booking"
    assert body["clash"] == {
        "start": day(2),
        "end": day(5),
        "booking_id": first["id"],
        "block_id": None,
    }
    assert (await book(client, agency, 5, 7)).status_code == 201  # arrives as the other leaves
    assert (await book(client, agency, 0, 2)).status_code == 201


async def test_cancelled_nights_can_be_booked_again_at_once(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    b = (await book(client, agency, 0, 4)).json()
    r = await client.post(f"/api/v1/bookings/{b['id']}/cancel", headers=agency.auth())
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled"
    assert (await book(client, agency, 1, 3)).status_code == 201


async def test_blocks_occupy_like_bookings(client: httpx.AsyncClient, agency: Agency) -> None:
    r = await client.post(
        "/api/v1/blocks",
        json={
            "property_id": agency.property_id,
            "start": day(10),
            "end": day(12),
            "kind": "maintenance",
        },
        headers=agency.auth(),
    )
    assert r.status_code == 201, r.text
    block_id = r.json()["id"]
    r = await book(client, agency, 11, 13)
    assert r.status_code == 409
    assert r.json()["conflict_type"] == "block"
    assert r.json()["clash"]["block_id"] == block_id
    assert (
        await client.delete(f"/api/v1/blocks/{block_id}", headers=agency.auth())
    ).status_code == 204
    assert (await book(client, agency, 11, 13)).status_code == 201


async def test_status_actions_follow_the_table(client: httpx.AsyncClient, agency: Agency) -> None:
    b = (await book(client, agency, 0, 2, status="requested")).json()
    url = f"/api/v1/bookings/{b['id']}"
    r = await client.post(f"{url}/check-in", headers=agency.auth())
    assert r.status_code == 409
    assert r.json()["from_status"] == "requested"
    assert (await client.post(f"{url}/confirm", headers=agency.auth())).json()[
        "status"
    ] == "confirmed"
    again = await client.post(f"{url}/confirm", headers=agency.auth())
    assert again.status_code == 200  # same status: no-op
    assert again.json()["version"] == 2
    assert (
        await client.post(f"{url}/check-in", headers=agency.auth(Role.STAFF))
    ).status_code == 200
    assert (await client.post(f"{url}/check-out", headers=agency.auth())).json()[
        "status"
    ] == "checked_out"
    assert (await client.post(f"{url}/cancel", headers=agency.auth())).status_code == 409


async def test_confirming_a_request_rechecks_availability(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    req = (await book(client, agency, 0, 3, status="requested")).json()
    assert (await book(client, agency, 1, 2)).status_code == 201  # requests do not hold nights
    r = await client.post(f"/api/v1/bookings/{req['id']}/confirm", headers=agency.auth())
    assert r.status_code == 409
    assert r.json()["conflict_type"] == "booking"


async def test_staff_may_not_cancel(client: httpx.AsyncClient, agency: Agency) -> None:
    b = (await book(client, agency, 0, 2)).json()
    r = await client.post(f"/api/v1/bookings/{b['id']}/cancel", headers=agency.auth(Role.STAFF))
    assert r.status_code == 403


async def test_patch_is_guarded_by_version_and_the_calendar(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    a = (await book(client, agency, 0, 2)).json()
    await book(client, agency, 4, 6)
    url = f"/api/v1/bookings/{a['id']}"
    r = await client.patch(url, json={"version": 1, "check_out": day(5)}, headers=agency.auth())
    assert r.status_code == 409
    assert r.json()["conflict_type"] == "booking"
    r = await client.patch(url, json={"version": 1, "check_out": day(4)}, headers=agency.auth())
    assert r.status_code == 200
    assert r.json()["version"] == 2
    r = await client.patch(url, json={"version": 1, "notes": "late"}, headers=agency.auth())
    assert r.status_code == 409
    assert r.json()["type"] == "/problems/stale-version"
    r = await client.patch(
        url, json={"version": 2, "property_id": agency.owned_property_id}, headers=agency.auth()
    )
    assert r.status_code == 200
    assert r.json()["property_id"] == agency.owned_property_id


async def test_max_guests_is_enforced(client: httpx.AsyncClient, agency: Agency) -> None:
    r = await book(client, agency, 0, 2, adults=3, children=2)
    assert r.status_code == 422
    assert r.json()["rule"] == "max_guests"
    assert (await book(client, agency, 0, 2, adults=4, infants=2)).status_code == 201


async def test_bad_ranges_are_422(client: httpx.AsyncClient, agency: Agency) -> None:
    assert (await book(client, agency, 3, 3)).status_code == 422
    assert (await book(client, agency, 3, 1)).status_code == 422
    assert (await book(client, agency, 0, 400)).status_code == 422


async def test_owner_sees_own_bookings_without_contact_details(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    await book(client, agency, 0, 2)
    mine = await client.post(
        "/api/v1/bookings",
        json={**booking_body(agency, 0, 2), "property_id": agency.owned_property_id},
        headers=agency.auth(),
    )
    r = await client.get("/api/v1/bookings", headers=agency.auth(Role.OWNER))
    items = r.json()["items"]
    assert [b["id"] for b in items] == [mine.json()["id"]]
    assert items[0]["guest"]["email"] is None
    assert items[0]["guest"]["last_name"] == "Gast"
    # Owners block their own property for an owner stay, nothing else.
    h = agency.auth(Role.OWNER)
    ok = await client.post(
        "/api/v1/blocks",
        json={
            "property_id": agency.owned_property_id,
            "start": day(20),
            "end": day(25),
            "kind": "owner",
        },
        headers=h,
    )
    assert ok.status_code == 201
    other = await client.post(
        "/api/v1/blocks",
        json={"property_id": agency.property_id, "start": day(20), "end": day(25), "kind": "owner"},
        headers=h,
    )
    assert other.status_code == 404
    maint = await client.post(
        "/api/v1/blocks",
        json={
            "property_id": agency.owned_property_id,
            "start": day(30),
            "end": day(31),
            "kind": "maintenance",
        },
        headers=h,
    )
    assert maint.status_code == 403


async def test_property_with_future_bookings_cannot_be_deleted(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    await book(client, agency, 0, 2)
    r = await client.delete(f"/api/v1/properties/{agency.property_id}", headers=agency.auth())
    assert r.status_code == 409
    assert r.json()["conflict_type"] == "future_bookings"


async def test_availability_and_calendar(client: httpx.AsyncClient, agency: Agency) -> None:
    b = (await book(client, agency, 1, 3)).json()
    await client.post(
        "/api/v1/blocks",
        json={"property_id": agency.property_id, "start": day(3), "end": day(4), "kind": "manual"},
        headers=agency.auth(),
    )
    r = await client.get(
        f"/api/v1/properties/{agency.property_id}/availability?start={day(0)}&end={day(5)}",
        headers=agency.auth(),
    )
    days = r.json()["days"]
    assert [d["status"] for d in days] == ["free", "booked", "booked", "blocked", "free"]
    assert days[1]["booking_id"] == b["id"]
    assert days[1]["label"] == b["reference"]
    r = await client.get(f"/api/v1/calendar?start={day(0)}&end={day(3)}", headers=agency.auth())
    assert len(r.json()["properties"]) == 2
    r = await client.get(f"/api/v1/calendar?start={day(0)}&end={day(367)}", headers=agency.auth())
    assert r.status_code == 422


async def test_the_constraint_predicate_is_the_occupying_statuses(database_url: str) -> None:
    conn = await asyncpg.connect(plain(database_url))
    try:
        definition = await conn.fetchval(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = $1",
            EXCLUSION_CONSTRAINT,
        )
    finally:
        await conn.close()
    statuses = set(re.findall(r"'([a-z_]+)'::", definition))
    assert statuses == {s.value for s in OCCUPYING} | {BLOCK_MARKER}
    # And the status table agrees: no transition leads out of a final occupying state wrongly.
    assert BookingStatus.CHECKED_OUT in OCCUPYING
    assert TRANSITIONS[BookingStatus.CHECKED_OUT] == frozenset()


async def test_fifty_concurrent_creates_for_the_same_nights_give_one_booking(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    results = await asyncio.gather(
        *(
            book(client, agency, 10, 14, guest={"email": f"g{i}@example.com", "last_name": "R"})
            for i in range(50)
        )
    )
    codes = sorted(r.status_code for r in results)
    assert codes.count(201) == 1, codes
    assert codes.count(409) == 49, codes
    assert all(r.json()["conflict_type"] for r in results if r.status_code == 409)


async def test_a_create_writes_its_events_and_audit_entry_in_the_same_statement(
    client: httpx.AsyncClient, agency: Agency, database_url: str
) -> None:
    confirmed = (await book(client, agency, 20, 23)).json()
    inquiry = (await book(client, agency, 20, 23, status="inquiry")).json()
    conn = await asyncpg.connect(plain(database_url))
    try:
        events = await conn.fetch(
            "SELECT aggregate_id, event_type, payload::text FROM outbox_events "
            "WHERE aggregate_id = ANY($1::text[]) OR (event_type = 'availability.changed' "
            "AND payload->>'start' = $2) ORDER BY id",
            [confirmed["id"], inquiry["id"]],
            day(20),
        )
        entries = await conn.fetch(
            "SELECT entity_id, after::text FROM audit_log "
            "WHERE action = 'created' AND entity_id = ANY($1::text[]) ORDER BY id",
            [confirmed["id"], inquiry["id"]],
        )
    finally:
        await conn.close()
    # booking.created first, naming the reference the column default gave; availability only
    # for the booking that occupies the nights.
    assert [(e["aggregate_id"], e["event_type"]) for e in events] == [
        (confirmed["id"], "booking.created"),
        (agency.property_id, "availability.changed"),
        (inquiry["id"], "booking.created"),
    ]
    assert json.loads(events[0]["payload"])["reference"] == confirmed["reference"]
    assert json.loads(events[0]["payload"])["status"] == "confirmed"
    assert json.loads(events[1]["payload"]) == {
        "property_id": agency.property_id,
        "start": day(20),
        "end": day(23),
    }
    assert json.loads(events[2]["payload"])["reference"] == inquiry["reference"]
    assert [e["entity_id"] for e in entries] == [confirmed["id"], inquiry["id"]]
    after = json.loads(entries[0]["after"])
    assert after["reference"] == confirmed["reference"]
    assert after["status"] == "confirmed"
    assert after["version"] == 1
    assert after["created_at"] == after["updated_at"]
    assert datetime.fromisoformat(after["created_at"]) == datetime.fromisoformat(
        confirmed["created_at"]
    )


async def test_a_clash_leaves_nothing_of_the_request_behind(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    await book(client, agency, 30, 33)
    r = await book(
        client, agency, 31, 32, guest={"email": "new-guest@example.com", "last_name": "N"}
    )
    assert r.status_code == 409
    assert r.json()["clash"]["start"] == day(30)
    # The guest the request created inline went with the rest of its transaction.
    found = await client.get("/api/v1/guests?q=new-guest", headers=agency.auth())
    assert found.status_code == 200
    assert found.json()["total"] == 0
    again = await book(client, agency, 33, 35)
    assert again.status_code == 201, again.text


async def test_the_list_filters_by_guest_name_email_or_reference(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    greta = (await book(client, agency, 0, 2)).json()
    other = {"email": "q.flosser@example.org", "last_name": "Quastenflosser", "first_name": "Marta"}
    max_ = (await book(client, agency, 4, 6, guest=other)).json()
    h = agency.auth()

    async def found(query: str, headers: dict[str, str] = h) -> list[str]:
        r = await client.get("/api/v1/bookings", params={"guest": query}, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["total"] == len(r.json()["items"])
        return [b["id"] for b in r.json()["items"]]

    assert await found("greta") == [greta["id"]]
    assert await found("QUASTEN") == [max_["id"]]
    assert await found("example.org") == [max_["id"]]
    assert sorted(await found("ta")) == sorted([greta["id"], max_["id"]])  # Greta, Marta
    assert await found(max_["reference"]) == [max_["id"]]
    assert await found("nobody") == []
    # LIKE wildcards are text, not patterns.
    assert await found("%") == []
    assert await found("_") == []
    # With the other filters: AND.
    r = await client.get("/api/v1/bookings", params={"guest": "ta", "start": day(3)}, headers=h)
    assert [b["id"] for b in r.json()["items"]] == [max_["id"]]
    # Bad input is a clear 422.
    r = await client.get("/api/v1/bookings", params={"guest": ""}, headers=h)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.get("/api/v1/bookings", params={"guest": "x" * 201}, headers=h)
    assert r.status_code == 422


async def test_owners_find_guests_by_name_but_not_by_contact_details(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    mine = await client.post(
        "/api/v1/bookings",
        json={**booking_body(agency, 0, 2), "property_id": agency.owned_property_id},
        headers=agency.auth(),
    )
    assert mine.status_code == 201, mine.text
    await book(client, agency, 0, 2)  # not the owner's property
    owner = agency.auth(Role.OWNER)

    async def found(query: str) -> list[str]:
        r = await client.get("/api/v1/bookings", params={"guest": query}, headers=owner)
        assert r.status_code == 200, r.text
        return [b["id"] for b in r.json()["items"]]

    assert await found("greta") == [mine.json()["id"]]
    assert await found("guest@example.com") == []
    assert await found("example.com") == []
