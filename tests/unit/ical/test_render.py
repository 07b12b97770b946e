"""Our export feed: RFC 5545 shape, no personal data, stable UIDs and ETags, exact round trip."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pms.channel.ical.parse import parse_feed
from pms.channel.ical.ranges import NightRange, merge_ranges, occupied_nights
from pms.channel.ical.render import (
    ExportEvent,
    RenderedFeed,
    escape_text,
    fold_line,
    http_date,
    not_modified,
    render_feed,
)

NOW = datetime(2026, 6, 1, 8, 30, tzinfo=UTC)
DOMAIN = "pms.example"


def r(start: str, end: str) -> NightRange:
    return NightRange(date.fromisoformat(start), date.fromisoformat(end))


EVENTS = [
    ExportEvent(r("2026-06-10", "2026-06-15"), "booking", "b-101"),
    ExportEvent(r("2026-06-15", "2026-06-18"), "booking", "b-102"),  # back-to-back
    ExportEvent(r("2026-07-01", "2026-07-04"), "block", "k-7"),
    ExportEvent(r("2026-07-02", "2026-07-03"), "hold", "h-1"),  # overlaps the block
]


def assert_rfc5545(body: bytes) -> None:
    """Line structure (CRLF, 75 octets, folding) and the required properties per component."""
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert b"\r" not in body.replace(b"\r\n", b"")
    for line in body.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line
        line.decode("utf-8")  # folding never splits a character
    cal = icalendar.Calendar.from_ical(body)
    assert cal.errors == []
    assert cal["VERSION"] == "2.0"
    assert "PRODID" in cal
    for ev in cal.walk("VEVENT"):
        assert ev.errors == []
        for required in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            assert required in ev
        assert ev["DTSTART"].params["VALUE"] == "DATE"
        assert ev.decoded("DTEND") > ev.decoded("DTSTART")


def test_the_feed_has_the_calendar_header_and_one_all_day_event_per_range() -> None:
    feed = render_feed(EVENTS, now=NOW, domain=DOMAIN, name="Seeblick")
    text = feed.body.decode()
    assert text.startswith(
        "BEGIN:VCALENDAR\r\nPRODID:-//PMS-Webapp//iCal export 1.0//EN\r\nVERSION:2.0\r\n"
        "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:Seeblick\r\n"
    )
    assert text.endswith("END:VCALENDAR\r\n")
    assert text.count("BEGIN:VEVENT") == 4
    assert (
        "BEGIN:VEVENT\r\nUID:booking-b-101@pms.example\r\nDTSTAMP:20260601T083000Z\r\n"
        "DTSTART;VALUE=DATE:20260610\r\nDTEND;VALUE=DATE:20260615\r\nSUMMARY:Reserved\r\n"
        "TRANSP:OPAQUE\r\nEND:VEVENT\r\n"
    ) in text
    assert "UID:block-k-7@pms.example" in text
    assert_rfc5545(feed.body)


def test_summaries_carry_no_personal_data() -> None:
    text = render_feed(EVENTS, now=NOW, domain=DOMAIN).body.decode()
    assert set(re.findall(r"SUMMARY:(.*)\r\n", text)) == {"Reserved", "Not available"}


def test_uids_are_stable_and_safe_whatever_the_source_id() -> None:
    weird = ExportEvent(r("2026-06-10", "2026-06-12"), "block", "a b;c,d@e\\f")
    first = render_feed([weird], now=NOW, domain=DOMAIN).body.decode()
    later = render_feed([weird], now=NOW + timedelta(days=3), domain=DOMAIN).body.decode()
    uid = re.findall(r"UID:(.*)\r\n", first)
    assert uid == ["block-a-b-c-d-e-f@pms.example"]
    assert re.findall(r"UID:(.*)\r\n", later) == uid


def test_long_lines_fold_at_75_octets_without_splitting_characters() -> None:
    name = "Ferienwohnung Möwennest 🐚 am Südstrand \u2013 " * 6
    feed = render_feed(EVENTS, now=NOW, domain=DOMAIN, name=name)
    assert_rfc5545(feed.body)
    cal = icalendar.Calendar.from_ical(feed.body)
    assert cal["X-WR-CALNAME"] == name


def test_fold_line_counts_octets_and_the_leading_space() -> None:
    pieces = fold_line("X:" + "é" * 100)
    # 2 + 36 * 2 = 74: a 37th "é" would straddle octet 75, so it moves to the next line.
    assert [len(p.encode()) for p in pieces] == [74, 75, 55]
    assert all(p.startswith(" ") for p in pieces[1:])
    assert "".join(p.removeprefix(" ") for p in pieces) == "X:" + "é" * 100
    assert fold_line("SHORT:x") == ["SHORT:x"]
    assert [len(p.encode()) for p in fold_line("A" * 75)] == [75]
    assert [len(p.encode()) for p in fold_line("A" * 76)] == [75, 2]


def test_text_escaping() -> None:
    assert escape_text("a\\b;c,d\ne\r\nf\x07") == "a\\\\b\\;c\\,d\\ne\\nf"


def test_etag_ignores_dtstamp_and_input_order_but_not_the_nights() -> None:
    base = render_feed(EVENTS, now=NOW, domain=DOMAIN)
    later = render_feed(reversed(EVENTS), now=NOW + timedelta(hours=5), domain=DOMAIN)
    assert later.body != base.body
    assert later.etag == base.etag
    assert re.fullmatch(r'"[0-9a-f]{32}"', base.etag)
    moved = [*EVENTS[:-1], ExportEvent(r("2026-07-02", "2026-07-05"), "hold", "h-1")]
    assert render_feed(moved, now=NOW, domain=DOMAIN).etag != base.etag


def test_last_modified_is_the_newest_update_unless_given() -> None:
    t1, t2 = NOW - timedelta(days=2), NOW - timedelta(hours=1, microseconds=5)
    events = [
        ExportEvent(r("2026-06-10", "2026-06-12"), "booking", "1", updated_at=t1),
        ExportEvent(r("2026-06-20", "2026-06-22"), "block", "2", updated_at=t2),
    ]
    feed = render_feed(events, now=NOW, domain=DOMAIN)
    assert feed.last_modified == t2
    assert feed.last_modified_header == "Mon, 01 Jun 2026 07:29:59 GMT"
    assert "LAST-MODIFIED:20260601T072959Z" in feed.body.decode()
    assert render_feed(events, now=NOW, domain=DOMAIN, last_modified=NOW).last_modified == NOW
    assert render_feed([], now=NOW, domain=DOMAIN).last_modified is None


def test_conditional_get_helpers() -> None:
    feed = RenderedFeed(b"", '"abc"', datetime(2026, 6, 1, 7, 0, 0, 500, tzinfo=UTC))
    assert not_modified(feed, if_none_match='"abc"', if_modified_since=None)
    assert not_modified(feed, if_none_match='"x", W/"abc"', if_modified_since=None)
    assert not_modified(feed, if_none_match="*", if_modified_since=None)
    assert not not_modified(feed, if_none_match='"x"', if_modified_since=http_date(NOW))
    assert not_modified(feed, if_none_match=None, if_modified_since=http_date(feed.last_modified))
    earlier = http_date(datetime(2026, 6, 1, 6, 59, 59, tzinfo=UTC))
    assert not not_modified(feed, if_none_match=None, if_modified_since=earlier)
    assert not not_modified(feed, if_none_match=None, if_modified_since="yesterday")
    assert not not_modified(feed, if_none_match=None, if_modified_since=None)


def test_naive_timestamps_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render_feed(EVENTS, now=datetime(2026, 6, 1), domain=DOMAIN)  # noqa: DTZ001


def test_an_empty_export_is_a_valid_calendar_with_no_events() -> None:
    feed = render_feed([], now=NOW, domain=DOMAIN)
    assert_rfc5545(feed.body)
    assert parse_feed(feed.body, "Europe/Berlin").ranges == ()


def test_round_trip_reproduces_exactly_the_same_nights() -> None:
    feed = render_feed(EVENTS, now=NOW, domain=DOMAIN)
    parsed = parse_feed(feed.body, "Europe/Berlin")
    assert parsed.ranges == merge_ranges(e.nights for e in EVENTS)
    assert [e.nights for e in parsed.events] == sorted(e.nights for e in EVENTS)
    assert parsed.diagnostics == ()


@st.composite
def export_events(draw: st.DrawFn) -> list[ExportEvent]:
    origin = date(2026, 1, 1)
    count = draw(st.integers(min_value=0, max_value=25))
    events = []
    for i in range(count):
        offset = draw(st.integers(min_value=-400, max_value=900))
        length = draw(st.integers(min_value=1, max_value=60))
        kind = draw(st.sampled_from(["booking", "block", "hold"]))
        source = draw(st.text(min_size=1, max_size=40))
        start = origin + timedelta(days=offset)
        events.append(
            ExportEvent(NightRange(start, start + timedelta(days=length)), kind, f"{i}{source}")
        )
    return events


@settings(max_examples=150, deadline=None)
@given(
    events=export_events(),
    name=st.text(max_size=200),
    zone=st.sampled_from(["Europe/Berlin", "Pacific/Kiritimati", "America/Adak", "UTC"]),
)
def test_property_render_then_parse_round_trips_any_range_set(
    events: list[ExportEvent], name: str, zone: str
) -> None:
    feed = render_feed(events, now=NOW, domain=DOMAIN, name=name or None)
    assert_rfc5545(feed.body)
    parsed = parse_feed(feed.body, zone)
    assert parsed.ranges == merge_ranges(e.nights for e in events)
    assert occupied_nights(parsed.ranges) == occupied_nights(e.nights for e in events)
    assert parsed.warnings == ()
