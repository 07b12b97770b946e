"""Consuming outbox events: idempotent by event id, routed by event type to registered handlers.

The relay publishes at least once (a relay that dies between publish and commit publishes the
event again), so every event is handled at most once here: a Redis key per event id is claimed
before the handlers run and marked done after they succeed. A failed run releases the claim so
the retry runs the handlers again; a run that died (worker lost) leaves a claim that expires
after the task time limit, after which the redelivered task gets its turn.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import timedelta
from enum import StrEnum
from typing import Any

import redis

from pms.core.outbox import EventMessage
from pms.logs import get_logger
from pms.settings import get_settings
from pms.tasks import runtime

Handler = Callable[[EventMessage], Coroutine[Any, Any, None]]

# event type → handlers. Empty for now: the Channel Manager registers its handlers here.
_HANDLERS: dict[str, list[Handler]] = {}

PROCESSED_TTL = timedelta(days=7)
_DONE = b"done"
_log = get_logger("pms.tasks.consumers")


def register(event_type: str) -> Callable[[Handler], Handler]:
    def add(handler: Handler) -> Handler:
        _HANDLERS.setdefault(event_type, []).append(handler)
        return handler

    return add


def handlers_for(event_type: str) -> list[Handler]:
    return list(_HANDLERS.get(event_type, ()))


class Outcome(StrEnum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"  # done before: skipped
    IN_FLIGHT = "in_flight"  # another delivery holds the claim: try again later


def processed_key(event_id: str) -> str:
    return f"pms:outbox:processed:{event_id}"


_client: redis.Redis | None = None


def sync_redis() -> redis.Redis:
    # Created lazily, so each forked worker process has its own connections.
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            get_settings().require_redis_url(), socket_connect_timeout=5, socket_timeout=5
        )
    return _client


def consume(event: EventMessage) -> Outcome:
    r = sync_redis()
    key = processed_key(event["event_id"])
    claim_seconds = get_settings().celery_task_time_limit + 60
    if not r.set(key, b"processing", nx=True, ex=claim_seconds):
        if r.get(key) == _DONE:
            _log.info("outbox_event_duplicate", event_id=event["event_id"], type=event["type"])
            return Outcome.DUPLICATE
        return Outcome.IN_FLIGHT
    handlers = handlers_for(event["type"])
    try:
        for handler in handlers:
            runtime.run(handler(event))
    except BaseException:
        r.delete(key)
        raise
    r.set(key, _DONE, ex=PROCESSED_TTL)
    _log.info(
        "outbox_event_processed",
        event_id=event["event_id"],
        outbox_id=event["id"],
        type=event["type"],
        handlers=len(handlers),
    )
    return Outcome.PROCESSED
