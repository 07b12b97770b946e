"""Encoded answers of read-heavy endpoints (the calendar, the public search), cached in each API
process under the generations they were built in (``pms.core.generations``).

Every committed write to an agency gives it a new generation before the writer's reply goes
out, so a cached answer is served only while nothing it could show has changed: a booking, a
block, a rate or a property change is visible to the very next request, in every process.
The generations are read before the database is, so an answer is never stored under a
generation newer than its data. Without Redis nothing is cached. ``READ_CACHE_TTL_SECONDS``
bounds how long an answer can live (and so how stale one could get if a bump was lost because
Redis failed at commit time); 0 turns the cache off.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import generations
from pms.core.lru import TimedLRU
from pms.db import scope_on_first_use
from pms.direct import public
from pms.redis_client import get_redis
from pms.settings import get_settings

_cache: TimedLRU[bytes] | None = None


def _store() -> TimedLRU[bytes]:
    global _cache
    if _cache is None:
        settings = get_settings()
        _cache = TimedLRU(
            ttl_seconds=settings.read_cache_ttl_seconds,
            max_size=settings.read_cache_max_mb * 1024 * 1024,
            sizeof=len,
        )
    return _cache


def reset() -> None:
    global _cache
    _cache = None
    _slugs.clear()


async def _read(state: dict[str, Any], scopes: list[str]) -> dict[str, str] | None:
    """The generations of ``scopes``, reusing those this request already read (before it
    touched the database) and keeping the result in the request ``state``."""
    gens = await generations.read_missing(get_redis(), state.get("generations"), scopes)
    if gens is not None:
        state["generations"] = gens
    return gens


def _state(request: Request) -> dict[str, Any]:
    state: dict[str, Any] = request.scope.setdefault("state", {})
    return state


# Public slug → agency id, valid while no agency row changed (a slug can move).
_slugs: TimedLRU[tuple[uuid.UUID, str]] = TimedLRU(ttl_seconds=300, max_size=10_000)


async def known_slug(state: dict[str, Any], slug: str) -> uuid.UUID | None:
    """The agency a public slug names if this process knows it and it is still current; the
    generations read on the way are left in the request ``state``."""
    known = _slugs.get(slug)
    if known is None:
        return None
    gens = await _read(
        state, [generations.GLOBAL, generations.AGENCIES, generations.agency(known[0])]
    )
    if gens is None or known[1] != gens[generations.GLOBAL] + gens[generations.AGENCIES]:
        return None
    return known[0]


async def agency_for_slug(request: Request, session: AsyncSession, slug: str) -> uuid.UUID:
    """The agency a public slug names (404 if none), with the session scoped to it as the
    public guest; one Redis round trip and no statement when known."""
    state = _state(request)
    agency_id = await known_slug(state, slug)
    if agency_id is not None:
        await scope_on_first_use(session, None, agency_id)
        return agency_id
    gens = await _read(state, [generations.GLOBAL, generations.AGENCIES])  # before the database
    agency, _ = await public.agency_by_slug(session, slug)
    if gens is not None:
        _slugs.put(slug, (agency.id, gens[generations.GLOBAL] + gens[generations.AGENCIES]))
    return agency.id


def peek(agency_id: uuid.UUID, key: Hashable, gens: dict[str, str]) -> bytes | None:
    """The answer stored for ``key`` under the given generations (read this request), if any."""
    store = _store()
    if store.ttl <= 0:
        return None
    scope = generations.agency(agency_id)
    return store.get((agency_id, key, (gens[generations.GLOBAL], gens[scope])))


async def cached(
    request: Request,
    agency_id: uuid.UUID,
    key: Hashable,
    build: Callable[[], Awaitable[bytes]],
) -> bytes:
    """The answer for ``key`` in ``agency_id``: from the cache while the agency's generation is
    unchanged, else from ``build()`` (then stored)."""
    store = _store()
    if store.ttl <= 0:
        return await build()
    scope = generations.agency(agency_id)
    gens = await _read(_state(request), [generations.GLOBAL, scope])
    if gens is None:
        return await build()
    full_key = (agency_id, key, (gens[generations.GLOBAL], gens[scope]))
    body = store.get(full_key)
    if body is None:
        body = await build()
        store.put(full_key, body)
    return body
