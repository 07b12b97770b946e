"""The calendar's per-day form (``core.availability.calendar``): per property, by name, one entry
per day of the window saying what occupies it, with the one id and the label that apply, and
the limits on which properties a request may name."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from pms import db
from pms.core import availability
from pms.core.availability import MAX_PROPERTIES
from pms.core.permissions import Role
from pms.core.tenancy import Actor
from tests.factories import property_body, signup

# The statements built again for each test (see the fixture): mutation testing reaches them.
pytestmark = pytest.mark.usefixtures("calendar_statements_built_afresh")

D = date(2032, 5, 1)


def day(n: int) -> str:
    return (D + timedelta(days=n)).isoformat()


async def test_each_day_says_what_occupies_it_with_the_id_and_label_that_apply(
    client: httpx.AsyncClient,
) -> None:
    agency_id, token, user_id = await signup(client)
    h = {"Authorization": f"Bearer {token}"}
    tag = uuid.uuid4().hex[:6]
    ids: dict[str, str] = {}
    for name in ("Birch", "Aspen", "Cedar"):  # made out of name order
        r = await client.post(
            "/api/v1/properties", json=property_body(name=f"{name} {tag}"), headers=h
        )
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    birch = ids["Birch"]

    async def book(start: int, end: int, status: str = "confirmed") -> Any:
        r = await client.post(
            "/api/v1/bookings",
            json={
                "property_id": birch,
                "check_in": day(start),
                "check_out": day(end),
                "status": status,
                "guest": {"email": "g@example.com", "last_name": "Gast"},
            },
            headers=h,
        )
        assert r.status_code == 201, r.text
        return r.json()

    before = await book(-2, 1)  # began before the window: only its last night is in it
    hold = await book(2, 3, status="hold")
    r = await client.post(
        "/api/v1/blocks",
        json={"property_id": birch, "start": day(4), "end": day(5), "kind": "maintenance"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    block = r.json()
    after = await book(8, 12)  # runs past the window's end

    r = await client.get(f"/api/v1/calendar?start={day(0)}&end={day(10)}", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["start"], body["end"]) == (day(0), day(10))
    assert [p["property_id"] for p in body["properties"]] == [
        ids["Aspen"],
        ids["Birch"],
        ids["Cedar"],
    ]

    def free(n: int) -> dict[str, Any]:
        return {"date": day(n), "status": "free"}

    def booked(n: int, b: Any, status: str = "booked") -> dict[str, Any]:
        return {"date": day(n), "status": status, "booking_id": b["id"], "label": b["reference"]}

    expected = [
        booked(0, before),
        free(1),
        booked(2, hold, "hold"),
        free(3),
        {
            "date": day(4),
            "status": "blocked",
            "block_id": block["id"],
            "label": "maintenance block",
        },
        free(5),
        free(6),
        free(7),
        booked(8, after),
        booked(9, after),
    ]
    assert body["properties"][1]["days"] == expected
    # By name whatever plan reads the properties: with index scans off (a sequential scan, in
    # the order they were made), too.
    actor = Actor(uuid.UUID(user_id), "admin@example.com", uuid.UUID(agency_id), Role.ADMIN)
    async with db.transaction(uuid.UUID(agency_id)) as session:
        await session.execute(text("SET LOCAL enable_indexscan = off"))
        await session.execute(text("SET LOCAL enable_bitmapscan = off"))
        scanned = await availability.calendar(session, actor, D, D + timedelta(days=10), None)
    assert [p["property_id"] for p in scanned["properties"]] == [
        p["property_id"] for p in body["properties"]
    ]
    assert body["properties"][0]["days"] == [free(n) for n in range(10)]
    # One property's calendar is the same days.
    r = await client.get(
        f"/api/v1/properties/{birch}/availability?start={day(0)}&end={day(10)}", headers=h
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"property_id": birch, "days": expected}
    # A property named twice is one property; one that is not the agency's is a 404.
    q = f"start={day(0)}&end={day(2)}"
    r = await client.get(
        f"/api/v1/calendar?{q}&property_ids={birch}&property_ids={birch}", headers=h
    )
    assert r.status_code == 200, r.text
    assert [p["property_id"] for p in r.json()["properties"]] == [birch]
    r = await client.get(
        f"/api/v1/calendar?{q}&property_ids={birch}&property_ids={uuid.uuid4()}", headers=h
    )
    assert r.status_code == 404, r.text
    assert r.json()["detail"] == "One or more properties were not found."
    other_id, other_token, _ = await signup(client, "Other")
    assert other_id != agency_id
    r = await client.get(
        f"/api/v1/properties/{birch}/availability?{q}",
        headers={"Authorization": f"Bearer {other_token}"},
    )
    assert r.status_code == 404, r.text


async def test_a_request_names_at_most_500_properties(client: httpx.AsyncClient) -> None:
    _, token, _ = await signup(client)
    h = {"Authorization": f"Bearer {token}"}
    q = f"start={day(0)}&end={day(2)}"
    assert MAX_PROPERTIES == 500
    for path in ("/api/v1/calendar", "/api/v1/calendar/ranges"):
        # 500 is allowed (these are unknown, hence the 404); 501 is too many.
        at_limit = "".join(f"&property_ids={uuid.uuid4()}" for _ in range(500))
        r = await client.get(f"{path}?{q}{at_limit}", headers=h)
        assert r.status_code == 404, r.text
        r = await client.get(f"{path}?{q}{at_limit}&property_ids={uuid.uuid4()}", headers=h)
        assert r.status_code == 422, r.text
        problem = r.json()
        assert problem["detail"] == "At most 500 properties per request."
        assert problem["errors"] == [
            {"field": "property_ids", "in": "query", "message": "too many"}
        ]
