"""Live events for the UI: the agency's outbox events as Server-Sent Events.

The relay appends each committed event to the agency's Redis stream (``outbox.live_stream``);
this endpoint follows that stream. The SSE ``id`` of an event is its entry id in the stream,
which Redis assigns in the order of publication. On reconnect (``Last-Event-ID``) the stream is
read from just after that entry, so nothing published in between is missed, whatever order the
events' transactions committed in (outbox ids follow insertion, not commit). Entries the relay
re-published (after a crash between publishing and marking) carry the same outbox id and are
dropped. A ``Last-Event-ID`` older than the oldest entry still kept (the stream keeps about
``LIVE_STREAM_MAXLEN`` per agency, and none across a Redis restart without persistence) gets an
``event: reset`` first: the client should reload what it shows.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from pms.api.deps import DB, BookingsRead
from pms.api.idempotency import IdempotentRoute
from pms.core import outbox, properties
from pms.core.errors import Unprocessable
from pms.core.outbox import LiveMessage
from pms.models.property import Property
from pms.redis_client import get_redis

router = APIRouter(route_class=IdempotentRoute, prefix="/events", tags=["events"])

HEARTBEAT_SECONDS = 15.0
REPLAY_PAGE = 500
_SEEN_IDS = 10_000
_BLOCK_MS = 1000  # one blocking read at a time, below the Redis client's socket timeout


class _Seen:
    """The ids sent recently (bounded): a re-sent or re-published event is dropped."""

    def __init__(self, size: int = _SEEN_IDS) -> None:
        self._ids: OrderedDict[int, None] = OrderedDict()
        self._size = size

    def add(self, event_id: int) -> bool:
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


async def _stream(
    agency_id: uuid.UUID, after: str | None, owned: frozenset[str] | None
) -> AsyncIterator[str]:
    def visible(m: LiveMessage) -> bool:
        # Owners see only what concerns their own properties.
        return owned is None or str(m["payload"].get("property_id")) in owned

    redis = get_redis()
    key = outbox.live_stream(agency_id)
    seen = _Seen()
    position, reset = await _start(key, after)
    # Sent at once so the client knows the stream is live (and proxies flush the headers).
    yield ": connected\n\n"
    if reset:
        yield f"id: {position}\nevent: reset\ndata: {{}}\n\n"
    last_write = time.monotonic()
    while True:
        batches: Any = await redis.xread({key: position}, count=REPLAY_PAGE, block=_BLOCK_MS)
        for _, entries in batches or []:
            for entry_id, fields in entries:
                position = str(entry_id)
                m: LiveMessage = json.loads(fields["m"])
                if seen.add(m["id"]) and visible(m):
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
            "type, or `reset` when the resume position is no longer kept: reload) and `data` "
            "(JSON: id (the outbox id), event_id, type, payload, created_at) per event; a "
            "comment line every 15 s keeps the connection alive.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def stream(
    session: DB,
    actor: BookingsRead,
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
    owned: frozenset[str] | None = None
    if actor.is_owner:
        ids = await session.scalars(properties.visible(actor).with_only_columns(Property.id))
        owned = frozenset(str(i) for i in ids)
    # The request's session is finished when this function returns; the stream opens its own
    # short transactions and never touches it.
    return StreamingResponse(
        _stream(agency_id, after, owned),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
