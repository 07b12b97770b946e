"""The scheduler: due feeds are claimed once, synced by a real worker, stale feeds alert."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from pms.channel.ical import sync
from pms.settings import Settings
from tests.integration.ical.conftest import FeedServer
from tests.integration.ical.helpers import add_feed, host, nights, occupied, open_alerts
from tests.services import Worker, eventually


async def test_due_feeds_are_claimed_once_and_rescheduled_with_jitter(
    client: httpx.AsyncClient, feed_server: FeedServer, settings: Settings
) -> None:
    h = await host(client)
    feed_server.status("f.ics", 500)
    feed = await add_feed(client, h, feed_server.url("f.ics"))
    now = datetime.now(UTC) + timedelta(seconds=1)
    assert await sync.claim_due_feeds(settings, now=now) == [uuid.UUID(feed["id"])]
    assert await sync.claim_due_feeds(settings, now=now) == []
    await sync.sync_feed(uuid.UUID(feed["id"]), settings, now=now)
    r = await client.get(f"/api/v1/ical-feeds/{feed['id']}", headers=h.headers)
    next_poll = datetime.fromisoformat(r.json()["health"]["next_poll_at"])
    assert now + timedelta(seconds=600) <= next_poll <= now + timedelta(seconds=600 + 150)


async def test_a_feed_without_success_for_three_intervals_raises_a_stale_alert(
    client: httpx.AsyncClient, feed_server: FeedServer, settings: Settings
) -> None:
    h = await host(client)
    feed_server.serve(
        "f.ics",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\nUID:1\r\n"
        b"DTSTART;VALUE=DATE:20270201\r\nDTEND;VALUE=DATE:20270205\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n",
    )
    feed = await add_feed(client, h, feed_server.url("f.ics"))
    feed_id = uuid.UUID(feed["id"])
    start = datetime.now(UTC)
    await sync.sync_feed(feed_id, settings, now=start)
    feed_server.status("f.ics", 503)
    # Two intervals of failures: failing, not yet stale.
    await sync.sync_feed(feed_id, settings, now=start + timedelta(minutes=20))
    assert {a["kind"] for a in await open_alerts(client, h)} == {"ical_fetch_failed"}
    # The third interval without success makes it stale; the nights are still held.
    report = await sync.sync_feed(feed_id, settings, now=start + timedelta(minutes=31))
    assert report is not None
    assert report.alerts == ["ical_stale"]
    kinds = {a["kind"] for a in await open_alerts(client, h)}
    assert kinds == {"ical_fetch_failed", "ical_stale"}
    assert await occupied(client, h, "2027-01-01", "2027-12-31") == nights(
        ("2027-02-01", "2027-02-05")
    )
    r = await client.get("/api/v1/ical-feeds", headers=h.headers)
    health = r.json()["items"][0]["health"]
    assert health["consecutive_failures"] == 2  # (the API's clock has not moved 31 minutes)
    assert health["status"] == "failing"
    # A feed whose syncs stopped happening at all is flagged by the scheduler's check too.
    other = await add_feed(client, h, feed_server.url("never.ics"))
    assert await sync.check_stale(settings, now=start + timedelta(minutes=31)) == 1
    alerts = await open_alerts(client, h)
    assert any(a["kind"] == "ical_stale" and a["feed_id"] == other["id"] for a in alerts)


async def test_the_worker_syncs_due_feeds_and_survives_broken_ones(
    client: httpx.AsyncClient, feed_server: FeedServer, worker: Worker, celery_app: Any
) -> None:
    h = await host(client)
    feed_server.serve(
        "good.ics",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\nUID:1\r\n"
        b"DTSTART;VALUE=DATE:20270201\r\nDTEND;VALUE=DATE:20270205\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n",
    )
    feed_server.status("down.ics", 500)
    feed_server.serve("garbage.ics", b"\x00\xff" * 1000)
    for name in ("good.ics", "down.ics", "garbage.ics"):
        await add_feed(client, h, feed_server.url(name), source="other")
    await asyncio.to_thread(celery_app.send_task, "pms.ical.poll_due")

    async def all_attempted_and_alerted() -> bool:
        kinds = {a["kind"] for a in await open_alerts(client, h)}
        r = await client.get("/api/v1/ical-feeds", headers=h.headers)
        attempted = all(f["health"]["last_attempt_at"] for f in r.json()["items"])
        return attempted and kinds == {"ical_fetch_failed", "ical_unparseable"}

    await eventually(all_attempted_and_alerted, 30, "every feed attempted, each failure alerted")
    assert await occupied(client, h, "2027-01-01", "2027-12-31") == nights(
        ("2027-02-01", "2027-02-05")
    )
    # The worker is alive after the broken feeds.
    assert worker.proc.poll() is None
    assert not [line for line in worker.log_lines() if "Traceback" in str(line)]
