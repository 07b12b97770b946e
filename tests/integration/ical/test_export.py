"""Export feeds: RFC 5545 output, conditional GET, rotation and revocation, no echo, holds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import icalendar

from pms.channel.ical.parse import parse_feed
from pms.channel.ical.ranges import occupied_nights
from tests.integration.ical.conftest import FeedServer
from tests.integration.ical.helpers import (
    add_feed,
    block,
    book,
    export_url,
    host,
    nights,
    sync_now,
)
from tests.services import eventually


def rfc5545_problems(body: bytes) -> list[str]:
    """What RFC 5545 §3.1, §3.4, §3.6.1 and §3.8 require of our output, checked line by line."""
    problems = []
    if not body.endswith(b"\r\n"):
        problems.append("does not end with CRLF")
    lines = body.split(b"\r\n")[:-1]
    for n, line in enumerate(lines, 1):
        if b"\n" in line or b"\r" in line:
            problems.append(f"line {n}: bare LF or CR")
        if len(line) > 75:
            problems.append(f"line {n}: {len(line)} octets > 75")
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"line {n}: not UTF-8")
    text = body.decode("utf-8").replace("\r\n ", "")  # unfolded
    content = text.split("\r\n")[:-1]
    if content[:1] != ["BEGIN:VCALENDAR"] or content[-1:] != ["END:VCALENDAR"]:
        problems.append("not one VCALENDAR")
    header = content[: next((i for i, c in enumerate(content) if c == "BEGIN:VEVENT"), None)]
    for prop in ("VERSION:2.0", "PRODID:"):
        if not any(c.startswith(prop) for c in header):
            problems.append(f"calendar lacks {prop}")
    uids = []
    for event_text in re.findall(r"BEGIN:VEVENT\r\n(.*?)END:VEVENT", text, re.S):
        event = event_text.replace("\r\n", "\n")
        props = [p.split(":", 1)[0].split(";", 1)[0] for p in event.split("\n") if p]
        for required in ("UID", "DTSTAMP", "DTSTART"):
            if props.count(required) != 1:
                problems.append(f"VEVENT needs exactly one {required}")
        if not re.search(r"^DTSTART;VALUE=DATE:\d{8}$", event, re.M):
            problems.append("DTSTART is not an all-day DATE")
        if not re.search(r"^DTEND;VALUE=DATE:\d{8}$", event, re.M):
            problems.append("DTEND is not an all-day DATE")
        if not re.search(r"^DTSTAMP:\d{8}T\d{6}Z$", event, re.M):
            problems.append("DTSTAMP is not UTC")
        uids += re.findall(r"^UID:(.+)$", event, re.M)
    if len(uids) != len(set(uids)):
        problems.append("UIDs not unique")
    return problems


async def test_export_is_valid_rfc5545_and_parses_with_icalendar(
    client: httpx.AsyncClient,
) -> None:
    h = await host(client)
    await book(client, h, "2027-03-01", "2027-03-05")
    await block(client, h, "2027-03-05", "2027-03-09")
    r = await client.get(await export_url(client, h))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/calendar")
    assert rfc5545_problems(r.content) == []
    cal = icalendar.Calendar.from_ical(r.content)
    events = [c for c in cal.walk("VEVENT")]
    spans = sorted(
        (e.decoded("DTSTART").isoformat(), e.decoded("DTEND").isoformat()) for e in events
    )
    assert spans == [("2027-03-01", "2027-03-05"), ("2027-03-05", "2027-03-09")]
    # No personal data: only neutral summaries.
    assert {str(e["SUMMARY"]) for e in events} <= {"Reserved", "Not available"}
    assert "Gast" not in r.text


async def test_conditional_get_answers_304_until_the_calendar_changes(
    client: httpx.AsyncClient,
) -> None:
    h = await host(client)
    block_id = await block(client, h, "2027-03-05", "2027-03-09")
    path = await export_url(client, h)
    first = await _with_last_modified(client, path)
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert (await client.get(path, headers={"If-None-Match": etag})).status_code == 304
    later = (datetime.now(UTC) + timedelta(seconds=5)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert (await client.get(path, headers={"If-Modified-Since": later})).status_code == 304
    head = await client.head(path)
    assert head.status_code == 200
    assert head.headers["etag"] == etag
    # Deleting the block leaves no row behind; the feed still changes and so do its validators.
    r = await client.delete(f"/api/v1/blocks/{block_id}", headers=h.headers)
    assert r.status_code == 204
    changed = await client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert "BEGIN:VEVENT" not in changed.text
    assert (await client.get(path, headers={"If-Modified-Since": last_modified})).status_code == 200


async def test_last_modified_is_not_sent_while_its_second_is_still_open(
    client: httpx.AsyncClient,
) -> None:
    """Otherwise a second change within the same second would be hidden from If-Modified-Since."""
    h = await host(client)
    path = await export_url(client, h)
    await block(client, h, "2027-03-05", "2027-03-09")
    r = await client.get(path)
    stamp = r.headers.get("last-modified")
    if stamp is not None:  # the second had already passed on a slow machine
        assert parsedate_to_datetime(stamp) < datetime.now(UTC).replace(microsecond=0)


async def _with_last_modified(client: httpx.AsyncClient, path: str) -> httpx.Response:
    """The feed once its Last-Modified second is over (polled with a deadline, not slept)."""

    async def served() -> httpx.Response | None:
        r = await client.get(path)
        return r if "last-modified" in r.headers else None

    response: httpx.Response = await eventually(served, 5, "a Last-Modified header")
    return response


async def test_rotate_and_revoke(client: httpx.AsyncClient) -> None:
    h = await host(client)
    base = f"/api/v1/properties/{h.property_id}/ical-exports"
    r = await client.post(base, json={}, headers=h.headers)
    export = r.json()
    old = httpx.URL(export["url"]).path
    assert (await client.get(old)).status_code == 200
    listed = (await client.get(base, headers=h.headers)).json()
    assert [e["id"] for e in listed] == [export["id"]]
    assert "url" not in listed[0]  # the token is shown once, never listed
    r = await client.post(f"{base}/{export['id']}/rotate", headers=h.headers)
    assert r.status_code == 200
    new = httpx.URL(r.json()["url"]).path
    assert new != old
    assert (await client.get(old)).status_code == 404
    assert (await client.get(new)).status_code == 200
    assert (await client.delete(f"{base}/{export['id']}", headers=h.headers)).status_code == 204
    assert (await client.get(new)).status_code == 404
    assert (await client.get(base, headers=h.headers)).json() == []
    assert (await client.get("/ical/not-a-token.ics")).status_code == 404


async def test_per_channel_export_leaves_out_what_came_from_that_channel(
    client: httpx.AsyncClient, feed_server: FeedServer
) -> None:
    h = await host(client)
    await book(client, h, "2027-03-01", "2027-03-04")  # direct
    await book(
        client, h, "2027-04-01", "2027-04-03", source="airbnb", channel_booking_id="HMABC123"
    )
    feed_server.serve(
        "airbnb.ics",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:1@airbnb.com\r\nDTSTART;VALUE=DATE:20270501\r\n"
        b"DTEND;VALUE=DATE:20270506\r\nSUMMARY:Reserved\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    feed = await add_feed(client, h, feed_server.url("airbnb.ics"), source="airbnb")
    await sync_now(client, h, feed["id"])

    def feed_nights(body: bytes) -> set[object]:
        return set(occupied_nights(parse_feed(body, "Europe/Berlin").ranges))

    everything = (await client.get(await export_url(client, h))).content
    for_airbnb = (await client.get(await export_url(client, h, exclude_source="airbnb"))).content
    for_booking = (
        await client.get(await export_url(client, h, exclude_source="booking_com"))
    ).content
    all_nights = nights(
        ("2027-03-01", "2027-03-04"), ("2027-04-01", "2027-04-03"), ("2027-05-01", "2027-05-06")
    )
    assert feed_nights(everything) == all_nights
    assert feed_nights(for_booking) == all_nights
    assert feed_nights(for_airbnb) == nights(("2027-03-01", "2027-03-04"))


async def test_holds_are_published_only_when_asked(client: httpx.AsyncClient) -> None:
    h = await host(client)
    await book(client, h, "2027-03-01", "2027-03-04", status="hold")
    plain = (await client.get(await export_url(client, h))).text
    with_holds = (await client.get(await export_url(client, h, include_holds=True))).text
    assert "DTSTART" not in plain
    assert "DTSTART;VALUE=DATE:20270301" in with_holds
