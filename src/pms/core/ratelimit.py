"""Fixed-window rate limits in Redis, shared by every API replica."""

from __future__ import annotations

from redis.asyncio import Redis

from pms.core.errors import TooManyRequests


async def hit(redis: Redis, key: str, limit: int, window_seconds: int) -> None:
    """Count one attempt; past ``limit`` in the window → 429 with Retry-After."""
    await hit_all(redis, [(key, limit, window_seconds)])


async def hit_all(redis: Redis, limits: list[tuple[str, int, int]]) -> None:
    """Count one attempt against each ``(key, limit, window_seconds)`` in one round trip; past
    any limit → 429 with the longest Retry-After among those exceeded."""
    async with redis.pipeline(transaction=True) as pipe:
        for key, _, window_seconds in limits:
            full = f"pms:rl:{key}"
            # SET NX starts the window once (EXPIRE NX needs Redis 7; the embedded one is 6.2).
            pipe.set(full, 0, ex=window_seconds, nx=True)
            pipe.incr(full)
            pipe.ttl(full)
        replies = await pipe.execute()
    retry = 0
    for i, (_, limit, _) in enumerate(limits):
        count, ttl = replies[3 * i + 1], replies[3 * i + 2]
        if int(count) > limit:
            retry = max(retry, int(ttl), 1)
    if retry:
        raise TooManyRequests(
            f"Too many attempts; try again in {retry} seconds.",
            headers={"Retry-After": str(retry)},
        )
