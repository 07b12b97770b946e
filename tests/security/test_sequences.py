"""Finding 11: nothing an agency sees counts the whole platform. Booking references are
numbered per agency (each agency's first is PMS-<year>-000001), audit entries are named by
UUIDs, and live events carry no outbox id."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import date, timedelta

import httpx

from pms.core import outbox
from tests.factories import Agency, full_agency

REFERENCE = re.compile(r"^PMS-(\d{4})-(\d{6})$")


def _number(reference: str) -> int:
    found = REFERENCE.match(reference)
    assert found, reference
    return int(found.group(2))


async def _book(client: httpx.AsyncClient, a: Agency, n: int) -> str:
    start = date(2035, 1, 1) + timedelta(days=3 * n)
    r = await client.post(
        "/api/v1/bookings",
        json={
            "property_id": a.property_id,
            "check_in": start.isoformat(),
            "check_out": (start + timedelta(days=2)).isoformat(),
            "guest_id": a.guest_id,
        },
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["reference"])


async def _reference(client: httpx.AsyncClient, a: Agency, booking_id: str) -> str:
    r = await client.get(f"/api/v1/bookings/{booking_id}", headers=a.auth())
    assert r.status_code == 200, r.text
    return str(r.json()["reference"])


async def test_each_agency_numbers_its_own_booking_references(client: httpx.AsyncClient) -> None:
    a = await full_agency(client, "Numbers A")
    b = await full_agency(client, "Numbers B")
    # full_agency books once: each agency's first booking is number 1, whatever the other did.
    assert _number(await _reference(client, a, a.booking_id)) == 1
    assert _number(await _reference(client, b, b.booking_id)) == 1
    assert [_number(await _book(client, a, n)) for n in range(3)] == [2, 3, 4]
    assert _number(await _book(client, b, 0)) == 2


async def test_concurrent_bookings_get_distinct_consecutive_references(
    client: httpx.AsyncClient,
) -> None:
    a = await full_agency(client, "Numbers C")
    references = await asyncio.gather(*(_book(client, a, n) for n in range(12)))
    assert sorted(_number(r) for r in references) == list(range(2, 14))


async def test_audit_entries_are_named_by_uuid(client: httpx.AsyncClient) -> None:
    a = await full_agency(client, "Numbers D")
    r = await client.get("/api/v1/audit-log?limit=50", headers=a.auth())
    assert r.status_code == 200, r.text
    ids = [item["id"] for item in r.json()["items"]]
    assert ids
    assert all(isinstance(i, str) and uuid.UUID(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_live_events_carry_no_outbox_id() -> None:
    m: outbox.EventMessage = {
        "id": 123456,
        "event_id": str(uuid.uuid4()),
        "agency_id": str(uuid.uuid4()),
        "type": "booking.created",
        "aggregate_type": "booking",
        "aggregate_id": str(uuid.uuid4()),
        "payload": {},
        "created_at": "2035-01-01T00:00:00+00:00",
        "request_id": None,
    }
    live = outbox.live_message(m)
    assert "id" not in live
    assert 123456 not in live.values()
