"""One asyncio Redis client per process (rate limits, heartbeats, generations, live streams)."""

from __future__ import annotations

from redis.asyncio import Redis

from pms.settings import get_settings

_client: Redis | None = None


def get_redis() -> Redis:
    global _client
    if _client is None:
        _client = Redis.from_url(
            get_settings().require_redis_url(),
            decode_responses=True,
            socket_connect_timeout=2,
            socket_timeout=5,
        )
    return _client


async def close_redis() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
    _client = None
