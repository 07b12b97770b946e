"""The "why is this night closed" view the web app shows on a property's page: per night, why
Core holds it, and per mapped listing what the platform should show and when it was pushed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.factories import add_rates, full_agency
from tests.integration.channel.helpers import channel_objects


def night(n: int) -> str:
    """Within the stored ARI horizon (the factory's own stays lie beyond it)."""
    return (datetime.now(UTC).date() + timedelta(days=n)).isoformat()


async def test_channel_days_say_why_a_night_is_closed_per_mapped_listing(
    client: httpx.AsyncClient, database_url: str
) -> None:
    a = await add_rates(client, await full_agency(client, "Why Closed"))
    h = a.auth()
    url = f"/api/v1/properties/{a.property_id}/channel-days"
    r = await client.post(
        "/api/v1/bookings",
        json={
            "property_id": a.property_id,
            "check_in": night(30),
            "check_out": night(32),
            "guest_id": a.guest_id,
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    booking_id = r.json()["id"]
    r = await client.post(
        "/api/v1/blocks",
        json={"property_id": a.property_id, "start": night(40), "end": night(41)},
        headers=h,
    )
    assert r.status_code == 201, r.text
    block_id = r.json()["id"]
    window = f"{url}?start={night(29)}&end={night(33)}"
    r = await client.get(window, headers=h)
    assert r.status_code == 200, r.text
    days = r.json()
    assert [d["date"] for d in days] == [night(n) for n in range(29, 33)]
    # Not mapped yet: no platform to show anything (the web app's empty state).
    assert all(d["channels"] == [] for d in days)
    assert [d["occupied_by"] and d["occupied_by"]["booking_id"] for d in days] == [
        None,
        booking_id,
        booking_id,
        None,
    ]

    ids = await channel_objects(database_url, a)
    days = (await client.get(window, headers=h)).json()
    for d in days:
        (ch,) = d["channels"]
        assert ch["mapping_id"] == ids.mapping_id
        assert ch["platform"] == "airbnb"
        assert ch["pushed_at"] is None  # never pushed
        assert ch["acknowledged"] is None
        assert ch["in_step"] is False
    assert [d["channels"][0]["should_show"]["available"] for d in days] == [
        True,
        False,
        False,
        True,
    ]
    r = await client.get(f"{url}?start={night(40)}&end={night(41)}", headers=h)
    (block,) = r.json()
    assert block["occupied_by"]["kind"] == "block"
    assert block["occupied_by"]["block_id"] == block_id
    assert block["channels"][0]["should_show"]["available"] is False

    # A window the wrong way round is a clear 422, not a 500.
    r = await client.get(f"{url}?start={night(33)}&end={night(29)}", headers=h)
    assert r.status_code == 422, r.text
