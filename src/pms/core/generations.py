"""Generations: tokens in Redis that change after every committed write, so that a cached read
can tell in one round trip whether it is still current.

There is one generation per agency (``agency:<id>``: anything a calendar, a search or a public
page of that agency shows), one for writes that are not scoped to an agency (``all``: system
jobs such as the hold-expiry sweep), and one for sign-in state (``auth``: users, memberships,
revoked sessions). ``pms.db`` notices which scopes a transaction wrote and calls :func:`bump`
after the commit; readers call :func:`read` *before* they query the database, so an answer
cached under a generation is never older than that generation.

A generation is a random token, not a counter: if Redis restarts empty, the new tokens cannot
collide with the ones cached entries were stored under. When Redis cannot be reached, readers
get ``None`` and must not use their caches; a bump that failed (Redis down at commit) leaves
cached answers stale until their TTL (``read_cache_ttl_seconds``), which bounds it.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

GLOBAL = "all"
AUTH = "auth"
AGENCIES = "agencies"  # the agencies table itself: which slug names which agency
_PREFIX = "pms:gen:"

log = structlog.get_logger(__name__)


def agency(agency_id: uuid.UUID) -> str:
    return f"agency:{agency_id}"


def _token() -> str:
    return secrets.token_hex(8)


async def read(redis: Redis, scopes: Sequence[str]) -> tuple[str, ...] | None:
    """The current generation of each scope, or None when Redis is unavailable."""
    keys = [_PREFIX + s for s in scopes]
    try:
        values: list[Any] = await redis.mget(keys)
        if any(v is None for v in values):
            # First reader since Redis started (or the key was evicted): start the scope at a
            # fresh token; SET NX keeps whichever reader or writer got there first.
            async with redis.pipeline(transaction=False) as pipe:
                for key, value in zip(keys, values, strict=True):
                    if value is None:
                        pipe.set(key, _token(), nx=True)
                pipe.mget(keys)
                *_, values = await pipe.execute()
    except RedisError as exc:
        log.warning("generations_unavailable", error=type(exc).__name__)
        return None
    if any(v is None for v in values):
        return None
    return tuple(str(v) for v in values)


async def read_missing(
    redis: Redis, known: dict[str, str] | None, scopes: Sequence[str]
) -> dict[str, str] | None:
    """``known`` (generations read earlier in the same request) completed with those of
    ``scopes`` it lacks; None when Redis is unavailable."""
    have = known or {}
    missing = [s for s in scopes if s not in have]
    if not missing:
        return have
    current = await read(redis, missing)
    if current is None:
        return None
    return {**have, **dict(zip(missing, current, strict=True))}


async def bump(redis: Redis, scopes: Iterable[str]) -> None:
    """Give each scope a new generation (after the commit of a write to it)."""
    mapping = {_PREFIX + s: _token() for s in scopes}
    if not mapping:
        return
    try:
        await redis.mset(mapping)
    except RedisError as exc:
        log.warning("generation_bump_failed", scopes=sorted(mapping), error=type(exc).__name__)
