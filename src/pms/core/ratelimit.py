"""Fixed-window rate limits in Redis, shared by every API replica."""

from __future__ import annotations

from redis.asyncio import Redis

from pms.core.errors import TooManyRequests


async def hit(redis: Redis, key: str, limit: int, window_seconds: int) -> None:
    """Count one attempt; past ``limit`` in the window → 429 with Retry-After."""
    await hit_all(redis, [(key, limit, window_seconds)])


# Counts one attempt on each key and starts its window on the first; returns count and
# remaining seconds per key. One command instead of three per key: a public request pays
# one small round trip for its limits.
_COUNT = """
local out = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('EXPIRE', key, ARGV[i]) end
  local ttl = redis.call('TTL', key)
  if ttl < 0 then redis.call('EXPIRE', key, ARGV[i]); ttl = tonumber(ARGV[i]) end
  out[#out + 1] = count
  out[#out + 1] = ttl
end
return out
"""


async def hit_all(redis: Redis, limits: list[tuple[str, int, int]]) -> None:
    """Count one attempt against each ``(key, limit, window_seconds)`` in one round trip; past
    any limit → 429 with the longest Retry-After among those exceeded."""
    script = redis.register_script(_COUNT)
    replies = await script(
        keys=[f"pms:rl:{key}" for key, _, _ in limits],
        args=[window for _, _, window in limits],
    )
    retry = 0
    for i, (_, limit, _) in enumerate(limits):
        count, ttl = int(replies[2 * i]), int(replies[2 * i + 1])
        if count > limit:
            retry = max(retry, ttl, 1)
    if retry:
        raise TooManyRequests(
            f"Too many attempts; try again in {retry} seconds.",
            headers={"Retry-After": str(retry)},
        )
