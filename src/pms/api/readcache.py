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


async def _generations(request: Request, agency_id: uuid.UUID) -> tuple[str, str] | None:
    scope = generations.agency(agency_id)
    # Read earlier in this request (authentication, the slug), before it touched the database.
    known: dict[str, str] | None = getattr(request.state, "generations", None)
    if known is None or scope not in known:
        current = await generations.read(get_redis(), [generations.GLOBAL, scope])
        if current is None:
            return None
        known = {**(known or {}), generations.GLOBAL: current[0], scope: current[1]}
        request.state.generations = known
    return known[generations.GLOBAL], known[scope]


# Public slug → agency id, valid while no agency row changed (a slug can move).
_slugs: TimedLRU[tuple[uuid.UUID, str]] = TimedLRU(ttl_seconds=300, max_size=10_000)


async def agency_for_slug(request: Request, session: AsyncSession, slug: str) -> uuid.UUID:
    """The agency a public slug names (404 if none), with the session scoped to it as the
    public guest; one Redis round trip and no statement when known."""
    known = _slugs.get(slug)
    scopes = [generations.GLOBAL, generations.AGENCIES]
    if known is not None:
        scopes.append(generations.agency(known[0]))
    read_before: dict[str, str] | None = getattr(request.state, "generations", None)
    if read_before is not None and all(s in read_before for s in scopes):
        current: tuple[str, ...] | None = tuple(read_before[s] for s in scopes)
    else:
        current = await generations.read(get_redis(), scopes)
    if current is None:
        agency, _ = await public.agency_by_slug(session, slug)
        return agency.id
    gens = dict(zip(scopes, current, strict=True))
    stamp = gens[generations.GLOBAL] + gens[generations.AGENCIES]
    if known is not None and known[1] == stamp:
        request.state.generations = gens
        await scope_on_first_use(session, None, known[0])
        return known[0]
    agency, _ = await public.agency_by_slug(session, slug)
    _slugs.put(slug, (agency.id, stamp))
    return agency.id


def peek(agency_id: uuid.UUID, key: Hashable, gens: dict[str, str]) -> bytes | None:
    """The answer stored for ``key`` under the given generations (read this request), if any."""
    store = _store()
    if store.ttl <= 0:
        return None
    scope = generations.agency(agency_id)
    return store.get((agency_id, key, (gens[generations.GLOBAL], gens[scope])))


async def known_slug(state: dict[str, Any], slug: str) -> uuid.UUID | None:
    """The agency a public slug names if this process knows it and it is still current; the
    generations read on the way are left in the request ``state``."""
    known = _slugs.get(slug)
    if known is None:
        return None
    scopes = [generations.GLOBAL, generations.AGENCIES, generations.agency(known[0])]
    current = await generations.read(get_redis(), scopes)
    if current is None:
        return None
    gens = dict(zip(scopes, current, strict=True))
    if known[1] != gens[generations.GLOBAL] + gens[generations.AGENCIES]:
        return None
    state["generations"] = gens
    return known[0]


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
    gens = await _generations(request, agency_id)
    if gens is None:
        return await build()
    full_key = (agency_id, key, gens)
    body = store.get(full_key)
    if body is None:
        body = await build()
        store.put(full_key, body)
    return body
