"""Fixed-window rate limits in Redis, shared by every API replica."""

from __future__ import annotations

from redis.asyncio import Redis

from pms.core.errors import TooManyRequests


async def hit(redis: Redis, key: str, limit: int, window_seconds: int) -> None:
    """Count one attempt; past ``limit`` in the window → 429 with Retry-After."""
    full = f"pms:rl:{key}"
    async with redis.pipeline(transaction=True) as pipe:
        # SET NX starts the window once (EXPIRE NX needs Redis 7; the embedded one is 6.2).
        pipe.set(full, 0, ex=window_seconds, nx=True)
        pipe.incr(full)
        pipe.ttl(full)
        _, count, ttl = await pipe.execute()
    if int(count) > limit:
        retry = max(int(ttl), 1)
        raise TooManyRequests(
            f"Too many attempts; try again in {retry} seconds.",
            headers={"Retry-After": str(retry)},
        )
