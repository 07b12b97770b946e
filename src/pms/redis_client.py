"""The API's asyncio Redis clients (rate limits, live streams), one of each per process.

Redis sits on the request path of a few endpoints only (the rate limits of login and the
public engine, the live event stream). A stalled or unreachable Redis must not hang those
requests: every call gets a short timeout and no retry of its own, and the failure becomes a
503 ``/problems/dependency-unavailable`` with ``Retry-After`` (``pms.api.problems``). Writes
that do not need Redis (bookings) never touch it.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from pms.settings import get_settings

# How long the live stream's XREAD blocks on the server; its client's socket timeout is this
# plus the request timeout, so a quiet stream is not mistaken for a stalled server.
STREAM_BLOCK_SECONDS = 1.0

_client: Redis | None = None
_stream_client: Redis | None = None


def _connect(socket_timeout: float) -> Redis:
    settings = get_settings()
    return Redis.from_url(
        settings.require_redis_url(),
        decode_responses=True,
        socket_connect_timeout=settings.redis_timeout_seconds,
        socket_timeout=socket_timeout,
        # redis-py retries timeouts three times by default: a stalled server would hold the
        # request four times as long. The client (told by Retry-After) retries instead.
        retry=Retry(NoBackoff(), 0),
    )


def get_redis() -> Redis:
    """The client for short calls on the request path (``redis_timeout_seconds`` each)."""
    global _client
    if _client is None:
        _client = _connect(get_settings().redis_timeout_seconds)
    return _client


def get_stream_redis() -> Redis:
    """The client for the live stream's blocking reads."""
    global _stream_client
    if _stream_client is None:
        _stream_client = _connect(STREAM_BLOCK_SECONDS + get_settings().redis_timeout_seconds)
    return _stream_client


async def close_redis() -> None:
    global _client, _stream_client
    for client in (_client, _stream_client):
        if client is not None:
            await client.aclose()
    _client = _stream_client = None
