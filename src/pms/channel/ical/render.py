"""Render a property's occupied ranges as an RFC 5545 feed, with an ETag that ignores DTSTAMP."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Literal

from pms.channel.ical.ranges import NightRange

ExportKind = Literal["booking", "block", "hold"]

# No guest names, channels or notes leave the system: the feed is public to whoever has the URL.
SUMMARIES: dict[ExportKind, str] = {
    "booking": "Reserved",
    "block": "Not available",
    "hold": "Not available",
}

DEFAULT_PRODID = "-//PMS-Webapp//iCal export 1.0//EN"
MAX_OCTETS = 75
_CRLF = "\r\n"
_UID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class ExportEvent:
    """One occupied range and the record it comes from; ``source_id`` makes the UID stable."""

    nights: NightRange
    kind: ExportKind
    source_id: str
    updated_at: datetime | None = None


@dataclass(frozen=True)
class RenderedFeed:
    """The feed body plus what an HTTP layer needs for ``ETag``/``Last-Modified`` and 304s."""

    body: bytes
    etag: str
    last_modified: datetime | None

    @property
    def last_modified_header(self) -> str | None:
        return http_date(self.last_modified) if self.last_modified is not None else None


def render_feed(
    events: Iterable[ExportEvent],
    *,
    now: datetime,
    domain: str,
    name: str | None = None,
    prodid: str = DEFAULT_PRODID,
    last_modified: datetime | None = None,
) -> RenderedFeed:
    """Render the events; ``last_modified`` defaults to the newest ``updated_at`` among them."""
    ordered = sorted(events, key=lambda e: (e.nights, e.kind, e.source_id))
    text = render_calendar(ordered, now=now, domain=domain, name=name, prodid=prodid)
    if last_modified is None:
        stamps = [e.updated_at for e in ordered if e.updated_at is not None]
        last_modified = max(stamps) if stamps else None
    return RenderedFeed(text.encode("utf-8"), etag_for(text), last_modified)


def render_calendar(
    events: Iterable[ExportEvent],
    *,
    now: datetime,
    domain: str,
    name: str | None = None,
    prodid: str = DEFAULT_PRODID,
) -> str:
    """The calendar text: folded at 75 octets, CRLF line ends, events in the order given."""
    stamp = _utc_stamp(now)
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{escape_text(prodid)}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    if name:
        lines.append(f"X-WR-CALNAME:{escape_text(name)}")
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event_uid(event, domain)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{event.nights.start:%Y%m%d}",
            f"DTEND;VALUE=DATE:{event.nights.end:%Y%m%d}",
            f"SUMMARY:{escape_text(SUMMARIES[event.kind])}",
            "TRANSP:OPAQUE",
        ]
        if event.updated_at is not None:
            lines.append(f"LAST-MODIFIED:{_utc_stamp(event.updated_at)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(folded + _CRLF for line in lines for folded in fold_line(line))


def event_uid(event: ExportEvent, domain: str) -> str:
    """``<kind>-<id>@<domain>``: stable for as long as the booking or block exists."""
    return f"{event.kind}-{_UID_UNSAFE.sub('-', event.source_id)}@{domain}"


def escape_text(value: str) -> str:
    r"""RFC 5545 TEXT escaping (``\\ ; , newline``); other control characters are dropped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return _CONTROL.sub("", value)


def fold_line(line: str) -> list[str]:
    """Split a content line into pieces of at most 75 UTF-8 octets, never inside a character.

    Continuation pieces start with one space, which counts towards their 75 octets.
    """
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        octets = len(char.encode("utf-8"))
        limit = MAX_OCTETS if not pieces else MAX_OCTETS - 1
        if size + octets > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += octets
    pieces.append("".join(current))
    return [pieces[0]] + [" " + piece for piece in pieces[1:]]


def etag_for(text: str) -> str:
    """A strong ETag over the feed without its DTSTAMP lines, which change on every render."""
    digest = hashlib.sha256()
    for line in text.split(_CRLF):
        if not line.startswith("DTSTAMP:"):
            digest.update(line.encode("utf-8"))
            digest.update(b"\n")
    return f'"{digest.hexdigest()[:32]}"'


def http_date(moment: datetime) -> str:
    """An IMF-fixdate for ``Last-Modified``; HTTP dates have whole seconds."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def not_modified(
    rendered: RenderedFeed, *, if_none_match: str | None, if_modified_since: str | None
) -> bool:
    """Whether a conditional GET can be answered 304 (RFC 9110 §13.2.2: If-None-Match wins)."""
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or rendered.etag in tags
    if if_modified_since is None or rendered.last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return rendered.last_modified.replace(microsecond=0) <= since


def _utc_stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("timestamps in a feed must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
