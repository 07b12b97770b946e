"""The calendar's range form: stays, holds and blocks as ranges with their labels, the same
occupancy as the per-day form, owners limited to their own properties and shown no guests."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from pms.core.permissions import Role
from tests.factories import Agency, full_agency, property_body, signup

# The statements built again for each test (see the fixture): mutation testing reaches them.
pytestmark = pytest.mark.usefixtures("calendar_statements_built_afresh")

D = date(2031, 9, 1)


def day(n: int) -> str:
    return (D + timedelta(days=n)).isoformat()


@pytest.fixture
async def agency(client: httpx.AsyncClient) -> Agency:
    return await full_agency(client)


async def _book(client: httpx.AsyncClient, a: Agency, prop: str, start: int, end: int) -> Any:
    r = await client.post(
        "/api/v1/bookings",
        json={
            "property_id": prop,
            "check_in": day(start),
            "check_out": day(end),
            "adults": 2,
            "source": "airbnb",
            "guest": {"email": "greta@example.com", "first_name": "Greta", "last_name": "Gast"},
        },
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _block(client: httpx.AsyncClient, a: Agency, prop: str, start: int, end: int) -> Any:
    r = await client.post(
        "/api/v1/blocks",
        json={"property_id": prop, "start": day(start), "end": day(end), "kind": "maintenance"},
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_stays_and_blocks_come_as_ranges_with_their_labels(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    prop = agency.property_id
    stay = await _book(client, agency, prop, -2, 3)  # starts before the window
    block = await _block(client, agency, prop, 5, 7)
    await _book(client, agency, prop, 20, 22)  # after the window: not listed
    r = await client.get(
        f"/api/v1/calendar/ranges?start={day(0)}&end={day(10)}&property_ids={prop}",
        headers=agency.auth(Role.STAFF),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["start"], body["end"]) == (day(0), day(10))
    [found] = body["properties"]
    assert found["property_id"] == prop
    assert found["ranges"] == [
        {
            "start": day(-2),
            "end": day(3),
            "kind": "booked",
            "label": stay["reference"],
            "booking_id": stay["id"],
            "reference": stay["reference"],
            "status": "confirmed",
            "source": "airbnb",
            "guest_name": "Greta Gast",
        },
        {
            "start": day(5),
            "end": day(7),
            "kind": "blocked",
            "label": "maintenance block",
            "block_id": block["id"],
            "block_kind": "maintenance",
        },
    ]


async def test_the_ranges_cover_exactly_the_days_the_per_day_form_shows_taken(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    for prop in (agency.property_id, agency.owned_property_id):
        await _book(client, agency, prop, 1, 4)
        await _block(client, agency, prop, 4, 6)
        await _book(client, agency, prop, 8, 12)
    q = f"start={day(0)}&end={day(10)}"
    days = (await client.get(f"/api/v1/calendar?{q}", headers=agency.auth())).json()
    ranges = (await client.get(f"/api/v1/calendar/ranges?{q}", headers=agency.auth())).json()
    assert [p["property_id"] for p in days["properties"]] == [
        p["property_id"] for p in ranges["properties"]
    ]
    for per_day, per_range in zip(days["properties"], ranges["properties"], strict=True):
        drawn = {d["date"]: "free" for d in per_day["days"]}
        for rng in per_range["ranges"]:
            for d in drawn:
                if rng["start"] <= d < rng["end"]:
                    drawn[d] = rng["kind"]
        assert drawn == {d["date"]: d["status"] for d in per_day["days"]}


async def test_owners_see_only_their_properties_and_no_guest_names(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    mine = await _book(client, agency, agency.owned_property_id, 0, 2)
    await _book(client, agency, agency.property_id, 0, 2)
    h = agency.auth(Role.OWNER)
    r = await client.get(f"/api/v1/calendar/ranges?start={day(0)}&end={day(5)}", headers=h)
    assert r.status_code == 200, r.text
    [found] = r.json()["properties"]
    assert found["property_id"] == agency.owned_property_id
    [rng] = found["ranges"]
    assert rng["reference"] == mine["reference"]
    assert rng.get("guest_name") is None
    r = await client.get(
        f"/api/v1/calendar/ranges?start={day(0)}&end={day(5)}&property_ids={agency.property_id}",
        headers=h,
    )
    assert r.status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        f"start={day(3)}&end={day(3)}",
        f"start={day(0)}&end={day(367)}",
        "start=2031-02-30&end=2031-03-02",
        f"start={day(0)}",
    ],
)
async def test_bad_windows_are_422(client: httpx.AsyncClient, agency: Agency, query: str) -> None:
    r = await client.get(f"/api/v1/calendar/ranges?{query}", headers=agency.auth())
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_another_agencys_property_is_404(client: httpx.AsyncClient, agency: Agency) -> None:
    other = await full_agency(client, "Other")
    r = await client.get(
        f"/api/v1/calendar/ranges?start={day(0)}&end={day(5)}&property_ids={other.property_id}",
        headers=agency.auth(),
    )
    assert r.status_code == 404


async def test_ranges_come_by_date_with_the_kind_status_and_name_each_has(
    client: httpx.AsyncClient, admin: asyncpg.Connection
) -> None:
    """Each property's ranges by start, whatever order they were made in; a hold is a hold in
    kind and status, a block has no status and is labelled by its kind; a guest name is the
    parts the guest has (an empty part is not a part), or none at all. Properties by name,
    those without ranges with an empty list."""
    _, token, _ = await signup(client)
    h = {"Authorization": f"Bearer {token}"}
    tag = uuid.uuid4().hex[:6]
    birch = (
        await client.post("/api/v1/properties", json=property_body(name=f"Birch {tag}"), headers=h)
    ).json()["id"]
    aspen = (
        await client.post("/api/v1/properties", json=property_body(name=f"Aspen {tag}"), headers=h)
    ).json()["id"]

    async def book(start: int, end: int, first: str, last: str, status: str = "confirmed") -> Any:
        r = await client.post(
            "/api/v1/bookings",
            json={
                "property_id": birch,
                "check_in": day(start),
                "check_out": day(end),
                "status": status,
                "guest": {"email": f"{uuid.uuid4().hex[:8]}@example.com", "last_name": "X"},
            },
            headers=h,
        )
        assert r.status_code == 201, r.text
        # Names as a channel's import may leave them: empty, not missing.
        await admin.execute(
            "UPDATE guests SET first_name = $2, last_name = $3"
            " WHERE id = (SELECT guest_id FROM bookings WHERE id = $1::uuid)",
            r.json()["id"],
            first,
            last,
        )
        return r.json()

    last_only = await book(6, 8, "", "Gast")  # made first, listed third
    first_only = await book(0, 2, "Greta", "", status="hold")
    r = await client.post(
        "/api/v1/blocks",
        json={"property_id": birch, "start": day(3), "end": day(4), "kind": "owner"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    block = r.json()
    nameless = await book(9, 11, "", "")
    r = await client.get(f"/api/v1/calendar/ranges?start={day(0)}&end={day(10)}", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["start"], body["end"]) == (day(0), day(10))
    assert [p["property_id"] for p in body["properties"]] == [aspen, birch]
    assert body["properties"][0]["ranges"] == []

    def stay(b: Any, kind: str, **name: str) -> dict[str, Any]:
        return {
            "start": b["check_in"],
            "end": b["check_out"],
            "kind": kind,
            "label": b["reference"],
            "booking_id": b["id"],
            "reference": b["reference"],
            "status": b["status"],
            "source": b["source"],
            **name,
        }

    assert body["properties"][1]["ranges"] == [
        stay(first_only, "hold", guest_name="Greta"),
        {
            "start": day(3),
            "end": day(4),
            "kind": "blocked",
            "label": "owner block",
            "block_id": block["id"],
            "block_kind": "owner",
        },
        stay(last_only, "booked", guest_name="Gast"),
        stay(nameless, "booked"),
    ]
    assert first_only["status"] == "hold"
    # An agency without properties: no properties, not an error.
    _, other, _ = await signup(client, "Empty")
    r = await client.get(
        f"/api/v1/calendar/ranges?start={day(0)}&end={day(10)}",
        headers={"Authorization": f"Bearer {other}"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"start": day(0), "end": day(10), "properties": []}
