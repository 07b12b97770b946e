"""Each booking status holds its nights, or frees them, exactly as domain.md's status table says;
proved through the API with a second booking for the same nights.

The expected column is written out here from domain.md, not read from ``OCCUPYING``: a test
that asked the constant would agree with any change made to it (and the exclusion constraint is
built from that same constant)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from pms.core import holds
from tests.factories import Agency, full_agency

D = date(2032, 3, 1)

# domain.md, "Bookings": the status table's "occupies the dates?" column.
OCCUPIES_PER_DOMAIN_MD: dict[str, bool] = {
    "inquiry": False,
    "requested": False,
    "hold": True,  # until hold_expires_at (the lapsed hold: tests/integration/test_hold_expiry.py)
    "confirmed": True,
    "checked_in": True,
    "checked_out": True,
    "conflict": False,
    "cancelled": False,
    "declined": False,
    "expired": False,
    "no_show": False,
}


def day(n: int) -> str:
    return (D + timedelta(days=n)).isoformat()


@pytest.fixture
async def agency(client: httpx.AsyncClient) -> Agency:
    return await full_agency(client)


async def book(
    client: httpx.AsyncClient, a: Agency, start: int, end: int, **extra: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/bookings",
        json={
            "property_id": a.property_id,
            "check_in": day(start),
            "check_out": day(end),
            "adults": 2,
            "guest_id": a.guest_id,
            **extra,
        },
        headers=a.auth(),
    )


async def act(client: httpx.AsyncClient, a: Agency, booking_id: str, action: str) -> None:
    r = await client.post(f"/api/v1/bookings/{booking_id}/{action}", headers=a.auth())
    assert r.status_code == 200, r.text


# How the product brings a booking into each status: what it is created as, then the status
# actions it goes through.
CREATED_AS = {"inquiry": "inquiry", "requested": "requested", "hold": "hold", "expired": "hold"}
CREATED_AS |= {"declined": "requested", "conflict": "requested"}
ACTIONS = {
    "checked_in": ["check-in"],
    "checked_out": ["check-in", "check-out"],
    "no_show": ["no-show"],
    "declined": ["decline"],
    "cancelled": ["cancel"],
}


async def booking_in(
    status: str, client: httpx.AsyncClient, a: Agency, admin: asyncpg.Connection
) -> str:
    """A booking of nights 2-5 brought into ``status``."""
    r = await book(client, a, 2, 5, status=CREATED_AS.get(status, "confirmed"))
    assert r.status_code == 201, r.text
    booking_id: str = r.json()["id"]
    for action in ACTIONS.get(status, []):
        await act(client, a, booking_id, action)
    if status == "expired":
        await admin.execute(
            "UPDATE bookings SET hold_expires_at = now() - interval '1 minute' WHERE id = $1::uuid",
            booking_id,
        )
        assert await holds.expire_stale_holds_everywhere() == 1
    if status == "conflict":
        # Only a channel import that collides makes a conflict; the API cannot create one.
        # Its row changes status the way the import's does (the inventory trigger follows).
        await admin.execute(
            "UPDATE bookings SET status = 'conflict' WHERE id = $1::uuid", booking_id
        )
    r = await client.get(f"/api/v1/bookings/{booking_id}", headers=a.auth())
    assert r.json()["status"] == status
    return booking_id


@pytest.mark.parametrize("status", sorted(OCCUPIES_PER_DOMAIN_MD))
async def test_a_booking_holds_or_frees_its_nights_as_its_status_says(
    status: str, client: httpx.AsyncClient, agency: Agency, admin: asyncpg.Connection
) -> None:
    first = await booking_in(status, client, agency, admin)
    # Whatever its status, a stay that leaves as the first arrives is fine.
    assert (await book(client, agency, 0, 2)).status_code == 201
    second = await book(client, agency, 4, 7)  # shares night 4 with the first
    if OCCUPIES_PER_DOMAIN_MD[status]:
        assert second.status_code == 409, second.text
        clash = second.json()
        assert clash["conflict_type"] == ("hold" if status == "hold" else "booking")
        assert (clash["clash"] or {}).get("booking_id") == first, second.text
        # ... and one that arrives as it leaves is fine too.
        assert (await book(client, agency, 5, 6)).status_code == 201
    else:
        assert second.status_code == 201, second.text


async def test_a_checked_in_stay_keeps_its_nights(
    client: httpx.AsyncClient, agency: Agency, admin: asyncpg.Connection
) -> None:
    stay = await booking_in("checked_in", client, agency, admin)
    r = await book(client, agency, 3, 4)
    assert r.status_code == 409, r.text
    assert (r.json()["clash"] or {}).get("booking_id") == stay, r.text
    # And a date change onto them is refused the same way.
    other = (await book(client, agency, 10, 12)).json()
    r = await client.patch(
        f"/api/v1/bookings/{other['id']}",
        json={"version": other["version"], "check_in": day(4), "check_out": day(6)},
        headers=agency.auth(),
    )
    assert r.status_code == 409, r.text
