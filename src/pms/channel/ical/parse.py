"""Parse an iCalendar feed's raw bytes into occupied night ranges, tolerating real-world exports.

The parser is our own (unfolding, content lines, parameters) so that what we accept is decided
here and not by a library's lenience. It reads only what blocks availability: DTSTART, DTEND or
DURATION, STATUS, TRANSP, plus UID/SUMMARY for diagnostics. Anything it cannot use is reported
as a diagnostic; only a body that is not a calendar at all (or is cut off) is a ``ParseError``,
because an empty result would free every night the feed used to hold.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pms.channel.ical.ranges import NightRange, merge_ranges

Severity = Literal["info", "warning"]

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

_NAME = re.compile(r"[A-Za-z0-9-]+")
_PARAM_VALUE = re.compile(r'[^";:,]*')
_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
_DATE_TIME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2})(?::?(\d{2}))?(?:\.\d+)?(Z?)")
_DURATION = re.compile(
    r"([+-]?)P(?:(\d+)W|(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?)", re.IGNORECASE
)
_TEXT_ESCAPE = re.compile(r"\\(.)")

# Outlook and Exchange write Windows zone names as TZID; these are the ones seen in rental regions.
_WINDOWS_ZONES = {
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "GMT Standard Time": "Europe/London",
    "GTB Standard Time": "Europe/Athens",
    "E. Europe Standard Time": "Europe/Chisinau",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "Pacific Standard Time": "America/Los_Angeles",
    "UTC": "UTC",
}


class ParseError(ValueError):
    """The body is not an iCalendar feed (or is cut off); callers must keep the last good state."""

    def __init__(self, reason: Literal["empty", "not_a_calendar", "truncated"], detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Diagnostic:
    """Something in the feed we tolerated or skipped; ``warning`` means nights may be missing."""

    code: str
    message: str
    line: int | None = None
    severity: Severity = "warning"


@dataclass(frozen=True)
class FeedEvent:
    """One blocking VEVENT as the feed wrote it (its UID may change between fetches)."""

    nights: NightRange
    uid: str | None
    summary: str | None
    line: int


@dataclass(frozen=True)
class ParsedFeed:
    """A valid calendar: ``ranges`` are the maximal occupied ranges (possibly none)."""

    ranges: tuple[NightRange, ...]
    events: tuple[FeedEvent, ...]
    diagnostics: tuple[Diagnostic, ...]
    prodid: str | None
    encoding: str
    vevents_seen: int

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "warning")


@dataclass(frozen=True)
class _ContentLine:
    name: str
    params: dict[str, str]
    value: str
    line: int


@dataclass
class _RawEvent:
    line: int
    props: dict[str, _ContentLine] = field(default_factory=dict)


@dataclass(frozen=True)
class _When:
    day: date  # the property-local date
    is_date: bool
    moment: datetime | None  # aware, for DATE-TIME values (DURATION is added to it)


def parse_feed(data: bytes, property_tz: tzinfo | str) -> ParsedFeed:
    """Parse raw feed bytes; DATE-TIME values are mapped to dates in the property's time zone."""
    tz = ZoneInfo(property_tz) if isinstance(property_tz, str) else property_tz
    diagnostics: list[Diagnostic] = []
    text, encoding = _decode(data, diagnostics)
    lines = _unfold(text)
    prodid, raw_events = _components(lines, diagnostics)
    events: list[FeedEvent] = []
    for raw in raw_events:
        nights = _event_nights(raw, tz, diagnostics)
        if nights is not None:
            events.append(
                FeedEvent(
                    nights=nights,
                    uid=_text_prop(raw, "UID"),
                    summary=_text_prop(raw, "SUMMARY"),
                    line=raw.line,
                )
            )
    return ParsedFeed(
        ranges=merge_ranges(e.nights for e in events),
        events=tuple(events),
        diagnostics=tuple(diagnostics),
        prodid=prodid,
        encoding=encoding,
        vevents_seen=len(raw_events),
    )


def unescape_text(value: str) -> str:
    r"""Undo RFC 5545 TEXT escaping (``\\ \; \, \n \N``); unknown escapes keep the character."""
    return _TEXT_ESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _decode(data: bytes, diagnostics: list[Diagnostic]) -> tuple[str, str]:
    """Bytes to text: UTF-8 as the RFC says, else cp1252 (what Windows tools write), else latin-1.

    Unfolding happens on the decoded text, but decoding is tried on the whole body after removing
    fold breaks first, so a generator that folded in the middle of a multi-byte UTF-8 character
    still decodes as UTF-8.
    """
    if not data.strip():
        raise ParseError("empty", "the response body is empty")
    if data.startswith(_UTF16_BOMS):
        diagnostics.append(Diagnostic("utf16", "body is UTF-16 (byte order mark)", None, "info"))
        try:
            return data.decode("utf-16").lstrip("\ufeff"), "utf-16"
        except UnicodeDecodeError:
            # Cut off mid-character (an odd length) or damaged: what decodes is kept, so the
            # whole events in it are still read; the damage is reported.
            diagnostics.append(
                Diagnostic("utf16_damaged", "body is damaged UTF-16; bad bytes replaced", None)
            )
            return data.decode("utf-16", errors="replace").lstrip("\ufeff"), "utf-16"
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    joined = re.sub(rb"(?:\r\n|\r|\n)[ \t]", b"", data)
    for encoding in ("utf-8", "cp1252"):
        try:
            joined.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:
        encoding = "latin-1"
    if encoding != "utf-8":
        diagnostics.append(
            Diagnostic("not_utf8", f"body is not valid UTF-8; decoded as {encoding}", None, "info")
        )
    # Keep the fold breaks in the text so line numbers in diagnostics match the raw body.
    return _decode_folded(data, encoding), encoding


def _decode_folded(data: bytes, encoding: str) -> str:
    if encoding != "utf-8":
        return data.decode(encoding)
    # A fold inside a multi-byte character splits it across physical lines; join such a fold
    # before decoding. Rare, so only done when a plain decode fails.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return re.sub(rb"(?:\r\n|\r|\n)[ \t](?=[\x80-\xbf])", b"", data).decode("utf-8")


def _unfold(text: str) -> list[tuple[int, str]]:
    """Logical content lines with the number of their first physical line (1-based)."""
    logical: list[tuple[int, str]] = []
    # Only CR/LF end lines; str.splitlines would also split on characters such as U+2028 or the
    # latin-1 NEL byte that are legitimate inside a value.
    for number, physical in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        if physical[:1] in (" ", "\t") and logical:
            first, previous = logical[-1]
            logical[-1] = (first, previous + physical[1:])
        else:
            logical.append((number, physical))
    return logical


def _content_line(text: str, number: int) -> _ContentLine | None:
    """``name *(";" param) ":" value``; parameter values may be quoted and hold ``; : ,``."""
    colon = text.find(":")
    if colon > 0 and text.find(";", 0, colon) < 0 and _NAME.fullmatch(text, 0, colon):
        return _ContentLine(text[:colon].upper(), {}, text[colon + 1 :], number)  # no params
    m = _NAME.match(text)
    if m is None:
        return None
    name, pos = m.group().upper(), m.end()
    params: dict[str, str] = {}
    while pos < len(text) and text[pos] == ";":
        pm = _NAME.match(text, pos + 1)
        if pm is None or pm.end() >= len(text) or text[pm.end()] != "=":
            return None
        pos = pm.end() + 1
        values: list[str] = []
        while True:
            if text.startswith('"', pos):
                close = text.find('"', pos + 1)
                if close < 0:
                    return None
                values.append(text[pos + 1 : close])
                pos = close + 1
            else:
                vm = _PARAM_VALUE.match(text, pos)
                assert vm is not None  # the pattern matches the empty string
                values.append(vm.group())
                pos = vm.end()
            if not text.startswith(",", pos):
                break
            pos += 1
        params[pm.group().upper()] = ",".join(values)
    if not text.startswith(":", pos):
        return None
    return _ContentLine(name, params, text[pos + 1 :], number)


def _components(
    lines: list[tuple[int, str]], diagnostics: list[Diagnostic]
) -> tuple[str | None, list[_RawEvent]]:
    """Walk BEGIN/END nesting; collect calendar PRODID and the top-level VEVENTs' properties."""
    stack: list[str] = []
    events: list[_RawEvent] = []
    current: _RawEvent | None = None
    prodid: str | None = None
    calendars = 0
    junk_lines = 0
    for number, text in lines:
        if not text.strip():
            continue
        cl = _content_line(text.strip(), number)
        if cl is None or (not stack and not (cl.name == "BEGIN" and _upper(cl) == "VCALENDAR")):
            if stack:
                diagnostics.append(
                    Diagnostic("bad_line", "not a content line; ignored", number, "info")
                )
            else:
                junk_lines += 1
            continue
        if cl.name == "BEGIN":
            component = _upper(cl)
            if (
                component == "VEVENT"
                and current is not None
                and stack[:2] == ["VCALENDAR", "VEVENT"]
            ):
                # A generator forgot END:VEVENT; nesting the next event would lose its nights.
                diagnostics.append(
                    Diagnostic("unterminated", "VEVENT without END:VEVENT closed", number)
                )
                events.append(current)
                current = None
                del stack[1:]
            stack.append(component)
            if component == "VCALENDAR" and len(stack) == 1:
                calendars += 1
            elif component == "VEVENT" and stack[:-1] == ["VCALENDAR"]:
                current = _RawEvent(number)
        elif cl.name == "END":
            component = _upper(cl)
            if component not in stack:
                diagnostics.append(
                    Diagnostic("unbalanced_end", f"END:{component} without BEGIN", number, "info")
                )
                continue
            while stack:
                closed = stack.pop()
                if closed == "VEVENT" and current is not None and stack == ["VCALENDAR"]:
                    events.append(current)
                    current = None
                if closed == component:
                    break
                diagnostics.append(
                    Diagnostic("unbalanced_end", f"BEGIN:{closed} never ended", number, "info")
                )
        elif stack == ["VCALENDAR"]:
            if cl.name == "PRODID" and prodid is None:
                prodid = unescape_text(cl.value)
        elif current is not None and len(stack) == 2:
            if cl.name in current.props:
                diagnostics.append(
                    Diagnostic("duplicate", f"second {cl.name} ignored", number, "info")
                )
            else:
                current.props[cl.name] = cl
    if calendars == 0:
        raise ParseError("not_a_calendar", "no BEGIN:VCALENDAR line in the body")
    if stack:
        # A cut-off body (proxy, size limit, dropped connection) would silently lose events.
        raise ParseError("truncated", f"BEGIN:{stack[-1]} is never ended")
    if junk_lines:
        diagnostics.append(
            Diagnostic("junk", f"{junk_lines} line(s) outside VCALENDAR ignored", None, "info")
        )
    return prodid, events


def _upper(cl: _ContentLine) -> str:
    return cl.value.strip().upper()


def _text_prop(event: _RawEvent, name: str) -> str | None:
    prop = event.props.get(name)
    return unescape_text(prop.value).strip() if prop is not None else None


def _event_nights(event: _RawEvent, tz: tzinfo, diagnostics: list[Diagnostic]) -> NightRange | None:
    status = event.props.get("STATUS")
    if status is not None and _upper(status) == "CANCELLED":
        diagnostics.append(Diagnostic("cancelled", "cancelled event skipped", event.line, "info"))
        return None
    transp = event.props.get("TRANSP")
    if transp is not None and _upper(transp) == "TRANSPARENT":
        diagnostics.append(
            Diagnostic("transparent", "transparent (free) event skipped", event.line, "info")
        )
        return None
    dtstart = event.props.get("DTSTART")
    if dtstart is None:
        diagnostics.append(Diagnostic("no_dtstart", "event without DTSTART skipped", event.line))
        return None
    try:
        start = _when(dtstart, tz, diagnostics)
        end_day = _end_day(event, start, tz, diagnostics)
    except (ValueError, OverflowError) as exc:
        diagnostics.append(Diagnostic("bad_date", f"event skipped: {exc}", event.line))
        return None
    if "RRULE" in event.props or "RDATE" in event.props:
        diagnostics.append(
            Diagnostic("recurrence", "recurring event: only the first occurrence", event.line)
        )
    start_day = start.day
    if end_day < start_day:
        # Blocking both dates is the safe reading of a reversed event.
        diagnostics.append(Diagnostic("reversed", "DTEND before DTSTART; swapped", event.line))
        start_day, end_day = end_day, start_day
    if end_day == start_day:
        # A timed event within one day, or a zero-length all-day one, still takes that night.
        if start.is_date:
            diagnostics.append(
                Diagnostic("zero_length", "all-day event ends on its start", event.line, "info")
            )
        end_day = start_day + timedelta(days=1)
    return NightRange(start_day, end_day)


def _end_day(event: _RawEvent, start: _When, tz: tzinfo, diagnostics: list[Diagnostic]) -> date:
    """Exclusive end date: DTEND, else DTSTART + DURATION, else one day (RFC 5545 §3.6.1)."""
    dtend = event.props.get("DTEND")
    if dtend is not None:
        return _when(dtend, tz, diagnostics).day
    duration = event.props.get("DURATION")
    if duration is not None:
        delta = parse_duration(duration.value)
        if start.moment is None:
            # A DATE start counts whole days; a stray time part still touches the next night.
            extra = 1 if delta.seconds or delta.microseconds else 0
            return start.day + timedelta(days=delta.days + extra)
        return (start.moment + delta).astimezone(tz).date()
    return start.day if start.moment is not None else start.day + timedelta(days=1)


def _when(cl: _ContentLine, tz: tzinfo, diagnostics: list[Diagnostic]) -> _When:
    value = cl.value.strip()
    kind = cl.params.get("VALUE", "").upper()
    dt_match = _DATE_TIME.fullmatch(value)
    if dt_match is None:
        d_match = _DATE.fullmatch(value)
        if d_match is None:
            raise ValueError(f"{cl.name} is neither DATE nor DATE-TIME")
        return _When(date(*map(int, d_match.groups())), True, None)
    y, mo, d, h, mi, s, utc = dt_match.groups()
    if kind == "DATE":
        # Declared a DATE but written with a time: the declared type decides.
        return _When(date(int(y), int(mo), int(d)), True, None)
    second = min(int(s or 0), 59)  # a leap second 60 is still that minute
    naive = datetime(int(y), int(mo), int(d), int(h), int(mi), second)  # noqa: DTZ001
    if utc:
        zone: tzinfo = UTC
    elif "TZID" in cl.params:
        zone = _zone(cl.params["TZID"], tz, cl.line, diagnostics)
    else:
        zone = tz  # floating time: the guest's wall clock at the property
    moment = naive.replace(tzinfo=zone)
    return _When(moment.astimezone(tz).date(), False, moment)


def _zone(tzid: str, fallback: tzinfo, line: int, diagnostics: list[Diagnostic]) -> tzinfo:
    """An IANA zone for a TZID; VTIMEZONE bodies are not interpreted, unknown ids fall back."""
    zone = _lookup_zone(tzid)
    if zone is None:
        diagnostics.append(
            Diagnostic("unknown_tzid", f"TZID {tzid!r} unknown; property zone used", line)
        )
        return fallback
    return zone


@functools.lru_cache(maxsize=256)  # bounded: TZIDs come from untrusted feeds
def _lookup_zone(tzid: str) -> ZoneInfo | None:
    candidates = [tzid.strip(), _WINDOWS_ZONES.get(tzid.strip(), "")]
    # Globally unique ids like "/mozilla.org/20050126_1/Europe/Berlin" end in the IANA name.
    parts = [p for p in tzid.split("/") if p]
    candidates += ["/".join(parts[-2:]), "/".join(parts[-3:])]
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
    return None


def parse_duration(value: str) -> timedelta:
    """RFC 5545 DURATION (``P2D``, ``PT36H``, ``P1W``); negative durations are rejected."""
    m = _DURATION.fullmatch(value.strip())
    if m is None or not any(m.groups()[1:]) or value.strip()[-1] in "Tt":
        raise ValueError(f"bad DURATION {value.strip()!r}")
    sign, weeks, days, hours, minutes, seconds = m.groups()
    if sign == "-":
        raise ValueError("negative DURATION")
    return timedelta(
        weeks=int(weeks or 0),
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=int(seconds or 0),
    )
