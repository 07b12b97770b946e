"""Import feeds end to end: feeds served over HTTP on loopback, synced through the API."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from structlog.testing import capture_logs

from pms.channel.ical.parse import parse_feed
from pms.channel.ical.ranges import occupied_nights
from pms.settings import reset_settings_cache
from tests.integration.ical.conftest import FeedServer
from tests.integration.ical.helpers import (
    add_feed,
    block,
    book,
    export_url,
    host,
    nights,
    occupied,
    open_alerts,
    sync_now,
)
from tests.services import plain

WINDOW = ("2027-01-01", "2027-12-31")


def _cal(*events: tuple[str, str]) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN"]
    for i, (start, end) in enumerate(events):
        lines += [
            "BEGIN:VEVENT",
            f"UID:ev-{i}-{start}@test",
            f"DTSTART;VALUE=DATE:{start.replace('-', '')}",
            f"DTEND;VALUE=DATE:{end.replace('-', '')}",
            "SUMMARY:Reserved",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


async def test_round_trip_reproduces_exactly_the_same_nights(
    client: httpx.AsyncClient, feed_server: FeedServer
) -> None:
    a = await host(client, "A")
    await book(client, a, "2027-03-01", "2027-03-05")
    await book(client, a, "2027-03-05", "2027-03-08")  # back to back
    await book(client, a, "2027-05-01", "2027-05-03", status="inquiry")  # does not occupy
    cancelled = await book(client, a, "2027-06-01", "2027-06-04")
    r = await client.post(
        f"/api/v1/bookings/{cancelled['id']}/cancel",
        json={"version": cancelled["version"]},
        headers=a.headers,
    )
    assert r.status_code == 200, r.text
    await block(client, a, "2027-04-10", "2027-04-12")
    await book(client, a, "2027-08-30", "2027-09-02")
    expected = await occupied(client, a, *WINDOW)
    assert expected == nights(
        ("2027-03-01", "2027-03-08"), ("2027-04-10", "2027-04-12"), ("2027-08-30", "2027-09-02")
    )

    exported = await client.get(await export_url(client, a))
    assert exported.status_code == 200
    feed_server.serve("a.ics", exported.content)

    b = await host(client, "B")
    feed = await add_feed(client, b, feed_server.url("a.ics"), source="other")
    result = await sync_now(client, b, feed["id"])
    assert result["held"] is None
    assert result["outcome"] == "ParsedFeed"
    assert await occupied(client, b, *WINDOW) == expected
    assert result["feed"]["health"]["status"] == "ok"
    assert result["feed"]["health"]["event_count"] == 4

    # And B's own export carries the same nights on to the next platform.
    again = await client.get(await export_url(client, b))
    assert occupied_nights(parse_feed(again.content, "Europe/Berlin").ranges) == expected


async def test_a_second_sync_of_the_same_feed_changes_nothing_and_uses_conditional_get(
    client: httpx.AsyncClient, feed_server: FeedServer
) -> None:
    h = await host(client)
    feed_server.serve("f.ics", _cal(("2027-02-01", "2027-02-05")), etag='"v1"')
    feed = await add_feed(client, h, feed_server.url("f.ics"))
    first = await sync_now(client, h, feed["id"])
    assert [(r["start"], r["end"]) for r in first["added"]] == [("2027-02-01", "2027-02-05")]
    second = await sync_now(client, h, feed["id"])
    assert second["outcome"] == "NotModified"
    assert second["added"] == []
    assert second["removed"] == []
    assert feed_server.requests[-1][1].get("if-none-match") == '"v1"'
    # The feed changes: one stay moves, so its old nights are freed and the new ones blocked.
    feed_server.serve("f.ics", _cal(("2027-02-03", "2027-02-07")), etag='"v2"')
    third = await sync_now(client, h, feed["id"])
    assert [(r["start"], r["end"]) for r in third["removed"]] == [("2027-02-01", "2027-02-05")]
    assert await occupied(client, h, *WINDOW) == nights(("2027-02-03", "2027-02-07"))


async def test_failure_modes_keep_every_night_and_raise_their_alert(
    client: httpx.AsyncClient, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = await host(client)
    full = _cal(("2027-02-01", "2027-02-05"), ("2027-03-10", "2027-03-12"))
    feed_server.serve("f.ics", full)
    feed = await add_feed(client, h, feed_server.url("f.ics"))
    await sync_now(client, h, feed["id"])
    held_nights = nights(("2027-02-01", "2027-02-05"), ("2027-03-10", "2027-03-12"))
    assert await occupied(client, h, *WINDOW) == held_nights

    empty = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nEND:VCALENDAR\r\n"
    cases = [
        ("empty", lambda: feed_server.serve("f.ics", empty), "ical_suddenly_empty"),
        ("500", lambda: feed_server.status("f.ics", 500), "ical_fetch_failed"),
        ("timeout", lambda: feed_server.slow("f.ics", 4), "ical_fetch_failed"),
        ("garbage", lambda: feed_server.serve("f.ics", b"<html>oops</html>"), "ical_unparseable"),
        ("50 MB", lambda: feed_server.huge("f.ics"), "ical_fetch_failed"),
    ]
    for label, arrange, kind in cases:
        arrange()
        with capture_logs() as logs:
            result = await sync_now(client, h, feed["id"])
        assert result["held"] is not None, label
        assert result["feed"]["health"]["status"] == "failing", label
        assert await occupied(client, h, *WINDOW) == held_nights, label
        kinds = {a["kind"] for a in await open_alerts(client, h)}
        assert kind in kinds, (label, kinds)
        assert any(line["event"] == "ical.fetch" for line in logs), label
        assert "f.ics" not in repr(logs), label  # the URL is a secret
        # Recovery resolves the alert, so each case raises its own.
        feed_server.serve("f.ics", full)
        ok = await sync_now(client, h, feed["id"])
        assert ok["held"] is None, label
        assert await open_alerts(client, h) == [], label

    # A redirect to a private address, with loopback allowed only by network (not blanket).
    monkeypatch.setenv("ICAL_ALLOW_PRIVATE", "false")
    monkeypatch.setenv("ICAL_ALLOWED_NETWORKS", "127.0.0.1/32")
    reset_settings_cache()
    feed_server.redirect("f.ics", "http://10.0.0.5/calendar.ics")
    result = await sync_now(client, h, feed["id"])
    assert result["held"] == "fetch_failed"
    assert "blocked_address" in result["feed"]["health"]["last_error"]
    assert await occupied(client, h, *WINDOW) == held_nights
    assert {a["kind"] for a in await open_alerts(client, h)} == {"ical_fetch_failed"}


async def test_alerts_reach_the_outbox_once_per_problem(
    client: httpx.AsyncClient, feed_server: FeedServer, database_url: str
) -> None:
    h = await host(client)
    feed_server.status("f.ics", 500)
    feed = await add_feed(client, h, feed_server.url("f.ics"))
    for _ in range(3):
        await sync_now(client, h, feed["id"])
    conn = await asyncpg.connect(plain(database_url))
    try:
        rows = await conn.fetch(
            "SELECT payload FROM outbox_events WHERE event_type = 'alert.raised' "
            "AND agency_id = $1",
            uuid.UUID(h.agency_id),
        )
    finally:
        await conn.close()
    assert len(rows) == 1
    assert '"kind": "ical_fetch_failed"' in rows[0]["payload"]
    assert "f.ics" not in rows[0]["payload"]


async def test_a_range_colliding_with_a_stay_is_a_conflict_with_an_alert_and_free_nights_blocked(
    client: httpx.AsyncClient, feed_server: FeedServer
) -> None:
    h = await host(client)
    booking = await book(client, h, "2027-02-03", "2027-02-05")
    feed_server.serve("f.ics", _cal(("2027-02-01", "2027-02-08"), ("2027-03-01", "2027-03-04")))
    feed = await add_feed(client, h, feed_server.url("f.ics"))
    result = await sync_now(client, h, feed["id"])
    assert result["conflicts"] == 1
    assert result["feed"]["health"]["open_conflicts"] == 1
    # Nothing of the feed's range is left free: the stay holds its nights, blocks hold the rest.
    assert await occupied(client, h, *WINDOW) == nights(
        ("2027-02-01", "2027-02-08"), ("2027-03-01", "2027-03-04")
    )
    r = await client.get(f"/api/v1/ical-feeds/{feed['id']}/conflicts", headers=h.headers)
    [conflict] = r.json()
    assert (conflict["start"], conflict["end"]) == ("2027-02-01", "2027-02-08")
    assert conflict["booking_id"] == booking["id"]
    assert [a["kind"] for a in await open_alerts(client, h)] == ["ical_conflict"]
    # Polled again: still one conflict, one alert.
    feed_server.serve("f.ics", _cal(("2027-02-01", "2027-02-08"), ("2027-03-01", "2027-03-04")))
    again = await sync_now(client, h, feed["id"])
    assert again["conflicts"] == 0
    assert again["feed"]["health"]["open_conflicts"] == 1
    assert len(await open_alerts(client, h)) == 1


async def test_our_own_stays_echoed_back_are_not_conflicts(
    client: httpx.AsyncClient, feed_server: FeedServer
) -> None:
    h = await host(client)
    await book(client, h, "2027-02-03", "2027-02-05")
    feed_server.serve("f.ics", _cal(("2027-02-03", "2027-02-05")))
    feed = await add_feed(client, h, feed_server.url("f.ics"))
    result = await sync_now(client, h, feed["id"])
    assert result["conflicts"] == 0
    assert result["added"] == []
    assert await open_alerts(client, h) == []


async def test_deleting_a_feed_frees_its_nights(
    client: httpx.AsyncClient, feed_server: FeedServer
) -> None:
    h = await host(client)
    feed_server.serve("f.ics", _cal(("2027-02-01", "2027-02-05")))
    feed = await add_feed(client, h, feed_server.url("f.ics"))
    await sync_now(client, h, feed["id"])
    r = await client.delete(f"/api/v1/ical-feeds/{feed['id']}", headers=h.headers)
    assert r.status_code == 204
    assert await occupied(client, h, *WINDOW) == set()
    r = await client.get("/api/v1/ical-feeds", headers=h.headers)
    assert r.json()["total"] == 0


async def test_the_feed_url_is_never_returned_or_logged_in_full(
    client: httpx.AsyncClient, feed_server: FeedServer
) -> None:
    h = await host(client)
    secret = "s3cr3t-calendar-token-ABCDEF"
    feed_server.serve(f"{secret}.ics", _cal(("2027-02-01", "2027-02-05")))
    with capture_logs() as logs:
        feed = await add_feed(client, h, feed_server.url(f"{secret}.ics"))
        await sync_now(client, h, feed["id"])
        r = await client.get("/api/v1/ical-feeds", headers=h.headers)
        audit = await client.get("/api/v1/audit-log?limit=200", headers=h.headers)
    assert secret not in str(feed)
    assert secret not in r.text
    assert secret not in audit.text
    assert {line["event"] for line in logs} >= {"ical.fetch", "ical.sync"}
    assert secret not in repr(logs)
    assert r.json()["items"][0]["url"].startswith(feed_server.base + "/…#")
    duplicate = await client.post(
        f"/api/v1/properties/{h.property_id}/ical-feeds",
        json={"url": feed_server.url(f"{secret}.ics"), "name": "again", "source": "vrbo"},
        headers=h.headers,
    )
    assert duplicate.status_code == 409
    assert secret not in duplicate.text
    bad = await client.post(
        f"/api/v1/properties/{h.property_id}/ical-feeds",
        json={"url": f"ftp://example.com/{secret}", "name": "x", "source": "other"},
        headers=h.headers,
    )
    assert bad.status_code == 422
    assert secret not in bad.text


async def test_a_person_can_confirm_that_a_feed_is_really_empty_now(
    client: httpx.AsyncClient, feed_server: FeedServer
) -> None:
    h = await host(client)
    feed_server.serve("f.ics", _cal(("2027-02-01", "2027-02-05")))
    feed = await add_feed(client, h, feed_server.url("f.ics"))
    await sync_now(client, h, feed["id"])
    feed_server.serve("f.ics", _cal())
    assert (await sync_now(client, h, feed["id"]))["held"] == "suddenly_empty"
    assert await occupied(client, h, *WINDOW) == nights(("2027-02-01", "2027-02-05"))
    r = await client.post(
        f"/api/v1/ical-feeds/{feed['id']}/sync?accept_empty=true", headers=h.headers
    )
    assert r.status_code == 200
    assert r.json()["held"] is None
    assert await occupied(client, h, *WINDOW) == set()
    assert await open_alerts(client, h) == []


async def test_cancelling_the_clashing_stay_ends_the_conflict_even_if_the_feed_is_unchanged(
    client: httpx.AsyncClient, feed_server: FeedServer
) -> None:
    h = await host(client)
    booking = await book(client, h, "2027-02-03", "2027-02-05")
    feed_server.serve("f.ics", _cal(("2027-02-01", "2027-02-08")), etag='"same"')
    feed = await add_feed(client, h, feed_server.url("f.ics"))
    assert (await sync_now(client, h, feed["id"]))["conflicts"] == 1
    r = await client.post(
        f"/api/v1/bookings/{booking['id']}/cancel",
        json={"version": booking["version"]},
        headers=h.headers,
    )
    assert r.status_code == 200, r.text
    result = await sync_now(client, h, feed["id"])
    assert result["outcome"] == "NotModified"
    # The freed nights are blocked for the feed at once, and the conflict and its alert close.
    assert [(a["start"], a["end"]) for a in result["added"]] == [("2027-02-03", "2027-02-05")]
    assert result["feed"]["health"]["open_conflicts"] == 0
    assert await open_alerts(client, h) == []
    assert await occupied(client, h, *WINDOW) == nights(("2027-02-01", "2027-02-08"))
