"""Live events for the UI: the agency's outbox events as Server-Sent Events.

The relay publishes each committed event to the agency's Redis channel; this endpoint relays that
channel to the browser. On reconnect (``Last-Event-ID``) it first replays the agency's later
events from the outbox table. The order of work is what makes this gapless: subscribe first (and
wait for Redis to confirm), then read the table. An event committed before the read is in the
replay; one committed after it is published by the relay after its commit, so after the
subscription, and arrives live. Ids already sent are dropped, which also absorbs the relay's
rare re-publishes.

Known limit: outbox ids are allocated at insert, not at commit, so two concurrent transactions
can commit in the opposite order of their ids. A client that disconnects right between the two
and resumes from the higher id misses the lower one. Clients that must not miss a change (the
Channel Manager) consume the Celery dispatch, not this stream; the UI re-reads what it shows.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse
from redis.asyncio.client import PubSub
from sqlalchemy import select

from pms import db
from pms.api.deps import DB, BookingsRead
from pms.core import outbox, properties
from pms.core.errors import Unprocessable
from pms.core.outbox import LiveMessage
from pms.models.outbox import OutboxEvent
from pms.models.property import Property
from pms.redis_client import get_redis

router = APIRouter(prefix="/events", tags=["events"])

HEARTBEAT_SECONDS = 15.0
REPLAY_PAGE = 500
_SEEN_IDS = 10_000
_POLL_SECONDS = 1.0  # below the Redis client's socket timeout


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


def frame(m: LiveMessage) -> str:
    data = json.dumps(m, separators=(",", ":"))
    return f"id: {m['id']}\nevent: {m['type']}\ndata: {data}\n\n"


def _parse_last_event_id(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        raise Unprocessable(
            "Last-Event-ID must be an event id this stream sent.",
            errors=[{"field": "Last-Event-ID", "in": "header", "message": "not an event id"}],
        )
    return int(value)


async def _replay(agency_id: uuid.UUID, after: int) -> AsyncIterator[LiveMessage]:
    """The agency's events after ``after``, page by page, each page in a short transaction
    scoped to the agency by row-level security."""
    while True:
        async with db.transaction(agency_id) as session:
            rows = (
                await session.scalars(
                    select(OutboxEvent)
                    .where(OutboxEvent.agency_id == agency_id, OutboxEvent.id > after)
                    .order_by(OutboxEvent.id)
                    .limit(REPLAY_PAGE)
                )
            ).all()
            page = [outbox.live_message(outbox.message(r)) for r in rows]
        for m in page:
            yield m
        if len(page) < REPLAY_PAGE:
            return
        after = page[-1]["id"]


async def _subscribed(channel: str) -> PubSub:
    pubsub = get_redis().pubsub()
    await pubsub.subscribe(channel)
    # Wait for Redis to confirm: only then is every later publish certain to reach us.
    while True:
        msg = await pubsub.get_message(timeout=_POLL_SECONDS)
        if msg is not None and msg["type"] == "subscribe":
            return pubsub


async def _stream(
    agency_id: uuid.UUID, after: int | None, owned: frozenset[str] | None
) -> AsyncIterator[str]:
    def visible(m: LiveMessage) -> bool:
        # Owners see only what concerns their own properties.
        return owned is None or str(m["payload"].get("property_id")) in owned

    seen = _Seen()
    pubsub = await _subscribed(outbox.live_channel(agency_id))
    try:
        # Sent at once so the client knows the stream is live (and proxies flush the headers).
        yield ": connected\n\n"
        if after is not None:
            async for old in _replay(agency_id, after):
                if seen.add(old["id"]) and visible(old):
                    yield frame(old)
        last_write = time.monotonic()
        while True:
            msg: dict[str, Any] | None = await pubsub.get_message(
                ignore_subscribe_messages=True, timeout=_POLL_SECONDS
            )
            if msg is not None and msg["type"] == "message":
                m: LiveMessage = json.loads(msg["data"])
                if seen.add(m["id"]) and visible(m):
                    yield frame(m)
                    last_write = time.monotonic()
            # Also while only others' events flow (an owner's stream): quiet is quiet.
            if time.monotonic() - last_write >= HEARTBEAT_SECONDS:
                yield ": heartbeat\n\n"
                last_write = time.monotonic()
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]


@router.get(
    "/stream",
    summary="Live events of your agency (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "An endless `text/event-stream`: `id` (the outbox id), `event` (the "
            "event type) and `data` (JSON: id, event_id, type, payload, created_at) per event; a "
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
            description="Resume after this event id: later events are replayed first.",
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
