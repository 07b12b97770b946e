"""Feeds shaped like the real platforms' exports give the right blocked nights end to end."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from pms.channel.ical import sync
from pms.settings import Settings
from tests.integration.ical.conftest import FeedServer
from tests.integration.ical.helpers import add_feed, host, nights, occupied, open_alerts

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ical"
# The fixtures are from summer 2026; the sync runs as if on this day, so all of it is current.
ON = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)

# Expected nights written from the fixture files by hand (DTEND exclusive; adjacent events join).
CASES = {
    "airbnb_0_8_8.ics": (
        "airbnb",
        [("2026-06-10", "2026-06-18"), ("2026-07-01", "2026-07-04"), ("2026-12-20", "2027-01-03")],
    ),
    "airbnb_1_0.ics": ("airbnb", [("2026-08-05", "2026-08-13"), ("2026-09-01", "2026-09-30")]),
    "booking_com.ics": (
        "booking_com",
        [("2026-07-01", "2026-07-06"), ("2026-07-20", "2026-07-27")],
    ),
    "vrbo.ics": ("vrbo", [("2026-06-20", "2026-06-28"), ("2026-08-15", "2026-08-22")]),
    "abritel.ics": ("fewo_direkt", [("2026-07-03", "2026-07-11")]),
}


@pytest.mark.parametrize("name", sorted(CASES))
async def test_platform_feed_blocks_the_right_nights(
    client: httpx.AsyncClient, feed_server: FeedServer, settings: Settings, name: str
) -> None:
    source, expected = CASES[name]
    h = await host(client)
    feed_server.serve(name, (FIXTURES / name).read_bytes())
    feed = await add_feed(client, h, feed_server.url(name), source=source)
    report = await sync.sync_feed(uuid.UUID(feed["id"]), settings, now=ON)
    assert report is not None
    assert report.held is None
    assert await occupied(client, h, "2026-06-01", "2027-02-01") == nights(*expected)
    assert await open_alerts(client, h) == []
    # Every imported block is an `ical` block, and a second sync changes nothing.
    r = await client.get(f"/api/v1/blocks?property_id={h.property_id}&limit=200", headers=h.headers)
    assert {b["kind"] for b in r.json()["items"]} == {"ical"}
    again = await sync.sync_feed(uuid.UUID(feed["id"]), settings, now=ON)
    assert again is not None
    assert again.added == []
    assert again.removed == []


async def test_booking_com_uids_changing_between_fetches_change_nothing(
    client: httpx.AsyncClient, feed_server: FeedServer, settings: Settings
) -> None:
    h = await host(client)
    body = (FIXTURES / "booking_com.ics").read_bytes()
    feed_server.serve("b.ics", body)
    feed = await add_feed(client, h, feed_server.url("b.ics"), source="booking_com")
    await sync.sync_feed(uuid.UUID(feed["id"]), settings, now=ON)
    feed_server.serve("b.ics", body.replace(b"@booking.com", b"-rotated@booking.com"))
    report = await sync.sync_feed(uuid.UUID(feed["id"]), settings, now=ON)
    assert report is not None
    assert report.outcome == "ParsedFeed"
    assert report.added == []
    assert report.removed == []
