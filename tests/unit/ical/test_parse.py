"""Parsing real-world feeds into occupied nights: the platforms' shapes and the quirks they have."""

from __future__ import annotations

import contextlib
import hashlib
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pms.channel.ical.parse import ParseError, parse_duration, parse_feed, unescape_text
from pms.channel.ical.ranges import NightRange

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ical"
BERLIN = "Europe/Berlin"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def r(start: str, end: str) -> NightRange:
    return NightRange(date.fromisoformat(start), date.fromisoformat(end))


def calendar(*event_lines: str, eol: str = "\r\n") -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *event_lines, "END:VCALENDAR"]
    return (eol.join(lines) + eol).encode()


def event(*props: str) -> list[str]:
    return ["BEGIN:VEVENT", *props, "END:VEVENT"]


def codes(data: bytes) -> list[str]:
    return [d.code for d in parse_feed(data, BERLIN).diagnostics]


# --- the platforms' exports (fixtures shaped after channel-protocols.md §6) -------------------


def test_airbnb_0_8_8_without_dtstamp_and_dtend_first_blocks_the_right_nights() -> None:
    feed = parse_feed(fixture("airbnb_0_8_8.ics"), BERLIN)
    assert feed.ranges == (
        r("2026-06-10", "2026-06-18"),  # two back-to-back reservations share 06-15
        r("2026-07-01", "2026-07-04"),
        r("2026-12-20", "2027-01-03"),
    )
    assert feed.prodid == "-//Airbnb Inc//Hosting Calendar 0.8.8//EN"
    assert [e.summary for e in feed.events] == ["Reserved", "Reserved"] + [
        "Airbnb (Not available)"
    ] * 2
    assert feed.warnings == ()


def test_airbnb_1_0_with_dtstamp_first_blocks_the_right_nights() -> None:
    feed = parse_feed(fixture("airbnb_1_0.ics"), BERLIN)
    assert feed.ranges == (r("2026-08-05", "2026-08-13"), r("2026-09-01", "2026-09-30"))
    assert len(feed.events) == 3  # the prep-time block stays its own event
    assert feed.warnings == ()


def test_booking_com_adjacent_closures_merge_but_each_event_is_kept() -> None:
    feed = parse_feed(fixture("booking_com.ics"), BERLIN)
    assert feed.ranges == (r("2026-07-01", "2026-07-06"), r("2026-07-20", "2026-07-27"))
    assert [e.nights for e in feed.events][:3] == [
        r("2026-07-01", "2026-07-03"),
        r("2026-07-03", "2026-07-05"),
        r("2026-07-05", "2026-07-06"),
    ]
    assert feed.prodid == "-//admin.booking.com, b.v.//NONSGML v1.0//EN"  # the \, unescaped


def test_booking_com_uids_changing_between_fetches_give_the_same_ranges() -> None:
    first = parse_feed(fixture("booking_com.ics"), BERLIN)
    renamed = re.sub(
        rb"UID:([0-9a-f]{32})",
        lambda m: b"UID:" + hashlib.md5(m.group(1)).hexdigest().encode(),
        fixture("booking_com.ics"),
    )
    second = parse_feed(renamed, BERLIN)
    assert {e.uid for e in first.events}.isdisjoint({e.uid for e in second.events})
    assert second.ranges == first.ranges


def test_vrbo_with_lf_only_line_endings() -> None:
    data = fixture("vrbo.ics")
    assert b"\r" not in data
    feed = parse_feed(data, BERLIN)
    assert feed.ranges == (r("2026-06-20", "2026-06-28"), r("2026-08-15", "2026-08-22"))
    assert feed.events[0].summary == "Reserved - Jane"


def test_abritel_localized_summary_folded_inside_utf8_text() -> None:
    feed = parse_feed(fixture("abritel.ics"), BERLIN)
    assert feed.ranges == (r("2026-07-03", "2026-07-11"),)
    assert feed.events[0].summary == (
        "Réservée - Mélanie et famille \u2013 séjour prolongé avec arrivée tardive prévue à 22h"
    )
    assert feed.encoding == "utf-8"


def test_generic_calendar_with_time_zones_durations_and_skipped_events() -> None:
    feed = parse_feed(fixture("generic_quirks.ics"), BERLIN)
    assert feed.ranges == (
        r("2026-06-10", "2026-06-14"),  # TZID=Europe/Berlin 15:00 -> 11:00
        r("2026-06-21", "2026-06-24"),  # 23:00Z is already 06-21 in Berlin; DURATION:P3D
        r("2026-07-01", "2026-07-03"),  # floating time = property wall clock
        r("2026-07-10", "2026-07-17"),  # VALUE=DATE with DURATION:P1W
        r("2026-08-01", "2026-08-02"),  # DATE without DTEND = one day
        r("2026-09-01", "2026-09-03"),  # Windows zone name from Outlook
        r("2026-10-01", "2026-10-04"),  # unknown TZID falls back to the property zone
    )
    assert feed.events[0].summary == "Owner stay, family; note\nsecond line with a backslash \\"
    found = {d.code: d for d in feed.diagnostics}
    assert {"cancelled", "transparent", "junk", "unknown_tzid"} <= set(found)
    assert found["unknown_tzid"].severity == "warning"
    assert found["cancelled"].severity == "info"
    assert feed.vevents_seen == 9


def test_events_match_the_icalendar_library_for_all_day_exports() -> None:
    for name in ("airbnb_0_8_8.ics", "airbnb_1_0.ics", "booking_com.ics", "vrbo.ics"):
        cal = icalendar.Calendar.from_ical(fixture(name))
        expected = [
            NightRange(ev.decoded("DTSTART"), ev.decoded("DTEND")) for ev in cal.walk("VEVENT")
        ]
        assert [e.nights for e in parse_feed(fixture(name), BERLIN).events] == expected, name


def test_timed_events_match_the_icalendar_library_in_the_property_zone() -> None:
    data = fixture("generic_quirks.ics")
    # icalendar refuses the junk around the calendar, which is one reason we parse ourselves.
    with pytest.raises(ValueError, match="could not be parsed"):
        icalendar.Calendar.from_ical(data)
    body = data[data.index(b"BEGIN:VCALENDAR") : data.index(b"END:VCALENDAR") + 15]
    zone = ZoneInfo(BERLIN)

    def local_day(value: date | datetime) -> date:
        if not isinstance(value, datetime):
            return value
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(zone).date()

    expected = {}
    for ev in icalendar.Calendar.from_ical(body).walk("VEVENT"):
        if ev.get("STATUS") == "CANCELLED" or ev.get("TRANSP") == "TRANSPARENT":
            continue
        start = ev.decoded("DTSTART")
        if "DTEND" in ev:
            end = ev.decoded("DTEND")
        elif "DURATION" in ev:
            end = start + ev.decoded("DURATION")
        else:
            end = start + timedelta(days=1)
        expected[str(ev["UID"])] = NightRange(local_day(start), local_day(end))
    assert {e.uid: e.nights for e in parse_feed(data, BERLIN).events} == expected


# --- encodings and line structure --------------------------------------------------------------


def test_cp1252_body_decodes_without_crashing() -> None:
    feed = parse_feed(fixture("cp1252.ics"), BERLIN)
    assert feed.encoding == "cp1252"
    assert feed.events[0].summary == "Belegt \u2013 Familie Jäger"
    assert feed.ranges == (r("2026-06-05", "2026-06-09"),)
    assert "not_utf8" in [d.code for d in feed.diagnostics]


def test_bytes_undefined_in_cp1252_fall_back_to_latin1() -> None:
    data = calendar(*event("DTSTART;VALUE=DATE:20260605", "SUMMARY:odd \x81\x8d byte"))
    data = data.replace(b"\xc2\x81\xc2\x8d", b"\x81\x8d")
    feed = parse_feed(data, BERLIN)
    assert feed.encoding == "latin-1"
    assert feed.ranges == (r("2026-06-05", "2026-06-06"),)


def test_utf8_bom_and_utf16_bodies() -> None:
    data = calendar(*event("DTSTART;VALUE=DATE:20260605", "DTEND;VALUE=DATE:20260607"))
    assert parse_feed(b"\xef\xbb\xbf" + data, BERLIN).ranges == (r("2026-06-05", "2026-06-07"),)
    utf16 = data.decode().encode("utf-16")
    assert parse_feed(utf16, BERLIN).ranges == (r("2026-06-05", "2026-06-07"),)


def test_damaged_utf16_bodies_are_read_as_far_as_they_go_never_crash() -> None:
    first = event("DTSTART;VALUE=DATE:20260605", "DTEND;VALUE=DATE:20260607")
    second = event("DTSTART;VALUE=DATE:20260710", "DTEND;VALUE=DATE:20260712")
    utf16 = calendar(*first, *second).decode().encode("utf-16")
    # A stray byte after a whole calendar: read, with the damage reported.
    feed = parse_feed(utf16 + b"\n", BERLIN)
    assert feed.ranges == (r("2026-06-05", "2026-06-07"), r("2026-07-10", "2026-07-12"))
    assert "utf16_damaged" in {d.code for d in feed.diagnostics}
    # Cut off in the middle of a character and of an event: refused as truncated, as any
    # truncated feed is (its missing stays must not free nights), not a decoding crash.
    cut = utf16[: utf16.index("DTSTART;VALUE=DATE:20260710".encode("utf-16-le")) + 3]
    with pytest.raises(ParseError) as refused:
        parse_feed(cut, BERLIN)
    assert refused.value.reason == "truncated"


def test_a_fold_that_splits_a_multibyte_character_still_decodes_as_utf8() -> None:
    raw = "SUMMARY:Résa".encode()
    cut = raw.index(b"\xc3") + 1  # between the two bytes of é
    data = calendar(*event("DTSTART;VALUE=DATE:20260605", "X-CUT", "END-MARK"))
    data = data.replace(b"X-CUT\r\nEND-MARK", raw[:cut] + b"\r\n " + raw[cut:])
    feed = parse_feed(data, BERLIN)
    assert feed.encoding == "utf-8"
    assert feed.events[0].summary == "Résa"


def test_folds_with_tab_and_bare_cr_line_endings() -> None:
    data = calendar(
        *event("DTSTART;VALUE=DATE:2026", "\t0605", "DTEND;VALUE", " =DATE:20260608"), eol="\r"
    )
    assert parse_feed(data, BERLIN).ranges == (r("2026-06-05", "2026-06-08"),)


def test_lowercase_names_quoted_params_and_whitespace_are_tolerated() -> None:
    data = calendar(
        "begin:vevent",
        'dtstart;tzid="Europe/Berlin";x-note="a;b:c":20260605T150000',
        "dtend;value=date:20260607 ",
        "end:vevent",
    )
    assert parse_feed(data, BERLIN).ranges == (r("2026-06-05", "2026-06-07"),)


def test_unescape_text() -> None:
    assert unescape_text(r"a\,b\;c\nd\Ne\\f\:g") == "a,b;c\nd\ne\\f:g"


# --- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        (
            ["DTSTART;VALUE=DATE:20260605", "DTEND;VALUE=DATE:20260607"],
            ("2026-06-05", "2026-06-07"),
        ),
        (["DTSTART:20260605", "DTEND:20260607"], ("2026-06-05", "2026-06-07")),
        (
            ["DTSTART;VALUE=DATE:2026-06-05", "DTEND;VALUE=DATE:2026-06-07"],
            ("2026-06-05", "2026-06-07"),
        ),
        (["DTSTART;VALUE=DATE:20260605", "DURATION:P2D"], ("2026-06-05", "2026-06-07")),
        (["DTSTART;VALUE=DATE:20260605", "DURATION:PT12H"], ("2026-06-05", "2026-06-06")),
        (["DTSTART;VALUE=DATE:20260605"], ("2026-06-05", "2026-06-06")),
        # A timed stay frees its checkout day, whatever the checkout hour.
        (["DTSTART:20260605T140000Z", "DTEND:20260607T090000Z"], ("2026-06-05", "2026-06-07")),
        (["DTSTART:20260605T140000Z", "DURATION:PT36H"], ("2026-06-05", "2026-06-07")),
        # Within one day, the night of that day is taken.
        (["DTSTART:20260605T090000Z", "DTEND:20260605T120000Z"], ("2026-06-05", "2026-06-06")),
        (["DTSTART:20260605T090000Z"], ("2026-06-05", "2026-06-06")),
        # 22:30Z on 06-04 is 00:30 on 06-05 in Berlin (summer time, UTC+2).
        (["DTSTART:20260604T223000Z", "DTEND:20260606T220000Z"], ("2026-06-05", "2026-06-07")),
        (
            [
                "DTSTART;TZID=America/New_York:20260605T200000",
                "DTEND;TZID=America/New_York:20260607T200000",
            ],
            ("2026-06-06", "2026-06-08"),
        ),
        (
            ["DTSTART;VALUE=DATE:20260605T000000", "DTEND;VALUE=DATE:20260607T000000"],
            ("2026-06-05", "2026-06-07"),
        ),
        (["DTSTART:20260605T235960Z", "DTEND:20260607T100000Z"], ("2026-06-06", "2026-06-07")),
    ],
)
def test_date_forms_map_to_property_local_nights(
    props: list[str], expected: tuple[str, str]
) -> None:
    assert parse_feed(calendar(*event(*props)), BERLIN).ranges == (r(*expected),)


def test_date_time_uses_the_property_zone_argument() -> None:
    data = calendar(*event("DTSTART:20260605T230000Z", "DTEND:20260607T230000Z"))
    assert parse_feed(data, "UTC").ranges == (r("2026-06-05", "2026-06-07"),)
    assert parse_feed(data, "Asia/Tokyo").ranges == (r("2026-06-06", "2026-06-08"),)


def test_reversed_and_zero_length_events_still_block_with_a_diagnostic() -> None:
    reversed_ = calendar(*event("DTSTART;VALUE=DATE:20260610", "DTEND;VALUE=DATE:20260605"))
    feed = parse_feed(reversed_, BERLIN)
    assert feed.ranges == (r("2026-06-05", "2026-06-10"),)
    assert [d.code for d in feed.warnings] == ["reversed"]
    zero = calendar(*event("DTSTART;VALUE=DATE:20260610", "DTEND;VALUE=DATE:20260610"))
    assert parse_feed(zero, BERLIN).ranges == (r("2026-06-10", "2026-06-11"),)


def test_unusable_events_are_skipped_with_warnings_not_errors() -> None:
    data = calendar(
        *event("SUMMARY:no start"),
        *event("DTSTART:tomorrow"),
        *event("DTSTART;VALUE=DATE:20260230"),
        *event("DTSTART;VALUE=DATE:20260605", "DURATION:-P1D"),
        *event("DTSTART;VALUE=DATE:99991231"),
        *event("DTSTART;VALUE=DATE:20260701", "DTEND;VALUE=DATE:20260703"),
    )
    feed = parse_feed(data, BERLIN)
    assert feed.ranges == (r("2026-07-01", "2026-07-03"),)
    assert [d.code for d in feed.warnings] == ["no_dtstart"] + ["bad_date"] * 4


def test_recurring_events_block_their_first_occurrence_and_warn() -> None:
    data = calendar(*event("DTSTART;VALUE=DATE:20260605", "RRULE:FREQ=WEEKLY;COUNT=3"))
    feed = parse_feed(data, BERLIN)
    assert feed.ranges == (r("2026-06-05", "2026-06-06"),)
    assert [d.code for d in feed.warnings] == ["recurrence"]


def test_duration_grammar() -> None:
    assert parse_duration("P1W") == timedelta(weeks=1)
    assert parse_duration("P1DT2H3M4S") == timedelta(days=1, hours=2, minutes=3, seconds=4)
    assert parse_duration("+PT15M") == timedelta(minutes=15)
    for bad in ("P", "PT", "P1DT", "1D", "-P1D", "P1Y"):
        with pytest.raises(ValueError, match="DURATION"):
            parse_duration(bad)


# --- calendar or not ---------------------------------------------------------------------------


def test_a_valid_calendar_with_zero_events_is_an_empty_result_not_an_error() -> None:
    feed = parse_feed(fixture("empty_calendar.ics"), BERLIN)
    assert feed.ranges == ()
    assert feed.vevents_seen == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"  \r\n\t", "empty"),
        (b"<!DOCTYPE html><html><body>Please log in</body></html>", "not_a_calendar"),
        (b'{"error": "rate limited"}', "not_a_calendar"),
        (bytes(range(256)) * 40, "not_a_calendar"),
        (b"BEGIN:VEVENT\r\nDTSTART:20260605\r\nEND:VEVENT\r\n", "not_a_calendar"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260605\r\n", "truncated"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", "truncated"),
    ],
)
def test_a_body_that_is_not_a_whole_calendar_is_a_parse_error(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed(body, BERLIN)
    assert caught.value.reason == reason


def test_junk_and_nested_components_do_not_leak_events() -> None:
    data = (
        b"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20200101\r\nEND:VEVENT\r\n"  # outside: junk
        + calendar(
            "BEGIN:VTODO",
            "DTSTART;VALUE=DATE:20260101",
            "END:VTODO",
            *event("DTSTART;VALUE=DATE:20260605", "BEGIN:VALARM", "DTSTART:20270101", "END:VALARM"),
            "garbage line without colon",
        )
    )
    feed = parse_feed(data, BERLIN)
    assert feed.ranges == (r("2026-06-05", "2026-06-06"),)
    assert "junk" in [d.code for d in feed.diagnostics]


def test_missing_end_of_a_nested_component_is_tolerated() -> None:
    data = calendar(
        "BEGIN:VEVENT", "DTSTART;VALUE=DATE:20260605", "BEGIN:VALARM", "TRIGGER:-P1D", "END:VEVENT"
    )
    feed = parse_feed(data, BERLIN)
    assert feed.ranges == (r("2026-06-05", "2026-06-06"),)
    assert "unbalanced_end" in codes(data)


def test_a_missing_end_vevent_does_not_swallow_the_next_event() -> None:
    data = calendar(
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20260605",
        "DTEND;VALUE=DATE:20260607",
        *event("DTSTART;VALUE=DATE:20260710", "DTEND;VALUE=DATE:20260712"),
    )
    feed = parse_feed(data, BERLIN)
    assert feed.ranges == (r("2026-06-05", "2026-06-07"), r("2026-07-10", "2026-07-12"))
    assert [d.code for d in feed.warnings] == ["unterminated"]


# --- properties -------------------------------------------------------------------------------


def refold(data: bytes, width: int, eol: bytes, continuation: bytes) -> bytes:
    """The same calendar written by a different generator: other fold width and line ends."""
    out = []
    logical = re.sub(rb"\r?\n[ \t]", b"", data).split(b"\r\n" if b"\r\n" in data else b"\n")
    for line in logical:
        if not line:
            continue
        pieces = [line[i : i + width] for i in range(0, len(line), width)]
        out.append(eol.join([pieces[0], *[continuation + p for p in pieces[1:]]]))
    return eol.join(out) + eol


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(
        ["airbnb_0_8_8.ics", "airbnb_1_0.ics", "booking_com.ics", "vrbo.ics", "generic_quirks.ics"]
    ),
    width=st.integers(min_value=1, max_value=80),
    eol=st.sampled_from([b"\r\n", b"\n", b"\r"]),
    continuation=st.sampled_from([b" ", b"\t"]),
)
def test_property_line_ends_and_fold_widths_do_not_change_the_nights(
    name: str, width: int, eol: bytes, continuation: bytes
) -> None:
    original = fixture(name)
    assert parse_feed(refold(original, width, eol, continuation), BERLIN).ranges == (
        parse_feed(original, BERLIN).ranges
    )


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_property_arbitrary_bytes_give_a_result_or_a_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_feed(data, BERLIN)


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(min_value=0, max_value=2000), junk=st.binary(max_size=40))
def test_property_damaged_feeds_never_crash(cut: int, junk: bytes) -> None:
    original = fixture("generic_quirks.ics")
    damaged = original[: cut % len(original)] + junk + original[cut % len(original) :]
    with contextlib.suppress(ParseError):
        parse_feed(damaged, BERLIN)


@pytest.mark.parametrize(
    ("tzid", "known"),
    [
        ("/mozilla.org/20050126_1/America/New_York", True),
        ("/citadel.org/20190914_1/America/New_York", True),
        ("Eastern Standard Time", True),
        ("../../../../etc/passwd", False),
        ("America", False),
        ("", False),
    ],
)
def test_tzid_forms(tzid: str, known: bool) -> None:
    data = calendar(
        *event(f'DTSTART;TZID="{tzid}":20260605T200000', f'DTEND;TZID="{tzid}":20260607T200000')
    )
    feed = parse_feed(data, BERLIN)
    # 20:00 in New York is 02:00 the next day in Berlin; unknown zones read as Berlin time.
    expected = r("2026-06-06", "2026-06-08") if known else r("2026-06-05", "2026-06-07")
    assert feed.ranges == (expected,)
    assert ("unknown_tzid" in [d.code for d in feed.warnings]) is not known
