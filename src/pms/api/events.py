"""Live events for the UI: the agency's outbox events as Server-Sent Events.

The relay appends each committed event to the agency's Redis stream (``outbox.live_stream``);
this endpoint follows that stream. The SSE ``id`` of an event is its entry id in the stream,
which Redis assigns in the order of publication. On reconnect (``Last-Event-ID``) the stream is
read from just after that entry, so nothing published in between is missed, whatever order the
events' transactions committed in (outbox ids follow insertion, not commit). Entries the relay
re-published (after a crash between publishing and marking) carry the same event_id and are
dropped. A ``Last-Event-ID`` older than the oldest entry still kept (the stream keeps about
``LIVE_STREAM_MAXLEN`` per agency, and none across a Redis restart without persistence) gets an
``event: reset`` first: the client should reload what it shows.

The stream does not outlive the access it was opened with: before it sends events, and every
``REVALIDATE_SECONDS`` while quiet, it reads the caller's app session and membership again. A
logout, a revoked or expired session, a disabled account, a removed membership or a role that
may no longer read bookings ends it with a last ``event: revoked``; a changed role (e.g. to
owner) narrows what it shows from then on.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from pms.api.deps import DB, Authenticated, BookingsRead
from pms.api.idempotency import IdempotentRoute
from pms.core import auth, outbox, properties
from pms.core.errors import Unprocessable
from pms.core.outbox import LiveMessage
from pms.core.permissions import Permission, allows
from pms.core.tenancy import Actor
from pms.db import get_sessionmaker
from pms.logs import get_logger
from pms.models.property import Property
from pms.redis_client import STREAM_BLOCK_SECONDS, get_redis, get_stream_redis

router = APIRouter(route_class=IdempotentRoute, prefix="/events", tags=["events"])

HEARTBEAT_SECONDS = 15.0
# How often a quiet stream re-checks its viewer's session and membership (a stream with events
# re-checks before sending them).
REVALIDATE_SECONDS = 5.0
REPLAY_PAGE = 500
_SEEN_IDS = 10_000
_BLOCK_MS = int(STREAM_BLOCK_SECONDS * 1000)  # below the stream client's socket timeout
# Sent before the stream ends because Redis failed: EventSource clients wait this long (ms)
# before they reconnect with Last-Event-ID.
_RETRY_MS = 2000
_log = get_logger("pms.api.events")


class _Seen:
    """The ids sent recently (bounded): a re-sent or re-published event is dropped."""

    def __init__(self, size: int = _SEEN_IDS) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def add(self, event_id: str) -> bool:
        """True if the id is new."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True


def frame(entry_id: str, m: LiveMessage) -> str:
    data = json.dumps(m, separators=(",", ":"))
    return f"id: {entry_id}\nevent: {m['type']}\ndata: {data}\n\n"


_ENTRY_ID = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")


def _parse_last_event_id(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not _ENTRY_ID.match(value):
        raise Unprocessable(
            "Last-Event-ID must be an event id this stream sent.",
            errors=[{"field": "Last-Event-ID", "in": "header", "message": "not an event id"}],
        )
    return value


def _entry_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq)


async def _start(key: str, after: str | None) -> tuple[str, bool]:
    """Where to read from, and whether the client must reload (its position was trimmed)."""
    redis = get_redis()
    if after is None:
        newest: Any = await redis.xrevrange(key, count=1)
        return (str(newest[0][0]) if newest else "0-0"), False
    oldest: Any = await redis.xrange(key, count=1)
    trimmed = bool(oldest) and _entry_key(str(oldest[0][0])) > _entry_key(after)
    if not oldest and after != "0-0":
        trimmed = True  # nothing kept at all (Redis restarted), though the client saw events
    return after, trimmed


@dataclass
class _Viewer:
    """Who watches the stream, re-checked while it runs: a logout, a revoked session or a
    removed membership ends the stream, and a changed role changes what it shows."""

    user_id: uuid.UUID
    session_id: uuid.UUID | None
    agency_id: uuid.UUID
    owned: frozenset[str] | None  # an owner's properties; None: every event of the agency
    checked_at: float = field(default_factory=time.monotonic)

    def sees(self, m: LiveMessage) -> bool:
        # Owners see only what concerns their own properties.
        return self.owned is None or str(m["payload"].get("property_id")) in self.owned

    async def still_allowed(self) -> bool:
        """Read the session and the membership again (own short transaction)."""
        self.checked_at = time.monotonic()
        async with get_sessionmaker()() as session, session.begin():
            role = await auth.current_role(session, self.user_id, self.session_id, self.agency_id)
            if role is None or not allows(role, Permission.BOOKINGS_READ):
                return False
            actor = Actor(self.user_id, "", self.agency_id, role)
            self.owned = await _owned(session, actor)
        return True


async def _owned(session: AsyncSession, actor: Actor) -> frozenset[str] | None:
    if not actor.is_owner:
        return None
    ids = await session.scalars(properties.visible(actor).with_only_columns(Property.id))
    return frozenset(str(i) for i in ids)


def _revoked(position: str) -> str:
    return f"id: {position}\nevent: revoked\ndata: {{}}\n\n"


async def _stream(key: str, position: str, reset: bool, viewer: _Viewer) -> AsyncIterator[str]:
    redis = get_stream_redis()
    seen = _Seen()
    # Sent at once so the client knows the stream is live (and proxies flush the headers).
    yield ": connected\n\n"
    if reset:
        yield f"id: {position}\nevent: reset\ndata: {{}}\n\n"
    last_write = time.monotonic()
    while True:
        try:
            batches: Any = await redis.xread({key: position}, count=REPLAY_PAGE, block=_BLOCK_MS)
        except RedisError as exc:
            # The response has started (200): end the stream cleanly; the client reconnects
            # with the last id it got and misses nothing.
            _log.warning("event_stream_redis_failed", error=type(exc).__name__)
            yield f"retry: {_RETRY_MS}\n\n"
            return
        entries = [entry for _, page in batches or [] for entry in page]
        # Before any event is sent, and every REVALIDATE_SECONDS while quiet: is the viewer
        # still logged in and a member who may read bookings?
        due = time.monotonic() - viewer.checked_at >= REVALIDATE_SECONDS
        if entries or due:
            try:
                allowed = await viewer.still_allowed()
            except (DBAPIError, OSError) as exc:
                _log.warning("event_stream_recheck_failed", error=type(exc).__name__)
                yield f"retry: {_RETRY_MS}\n\n"
                return
            if not allowed:
                yield _revoked(position)
                return
        for entry_id, fields in entries:
            position = str(entry_id)
            m: LiveMessage = json.loads(fields["m"])
            if seen.add(m["event_id"]) and viewer.sees(m):
                yield frame(entry_id, m)
                last_write = time.monotonic()
        # Also while only others' events flow (an owner's stream): quiet is quiet.
        if time.monotonic() - last_write >= HEARTBEAT_SECONDS:
            yield ": heartbeat\n\n"
            last_write = time.monotonic()


@router.get(
    "/stream",
    summary="Live events of your agency (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "An endless `text/event-stream`: `id` (the event's position in the "
            "agency's stream; send it back as `Last-Event-ID` to resume), `event` (the event "
            "type; `reset` when the resume position is no longer kept: reload; `revoked`, the "
            "last one, when the session ended or the membership was removed) and `data` "
            "(JSON: event_id (a UUID), type, payload, created_at) per event; a "
            "comment line every 15 s keeps the connection alive.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def stream(
    session: DB,
    actor: BookingsRead,
    who: Authenticated,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            description="Resume after this event id: what was published since comes first.",
        ),
    ] = None,
) -> StreamingResponse:
    after = _parse_last_event_id(last_event_id)
    agency_id = actor.require_agency()
    assert actor.user_id is not None
    viewer = _Viewer(actor.user_id, who.session_id, agency_id, await _owned(session, actor))
    # Where to start is read before the response starts, so a Redis failure is still a 503.
    key = outbox.live_stream(agency_id)
    position, reset = await _start(key, after)
    # The request's session is finished when this function returns; the stream opens its own
    # short transactions and never touches it.
    return StreamingResponse(
        _stream(key, position, reset, viewer),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
