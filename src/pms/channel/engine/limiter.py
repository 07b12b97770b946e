"""A token bucket per platform account in Redis, shared by every worker: a call waits for a
token. Redis time is the clock, so workers on different machines agree. If Redis is away, the
call goes ahead (the platform's own 429 and our retries still hold the line)."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from pms.logs import get_logger

log = get_logger(__name__)

_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return tostring(wait)
"""


def bucket_key(platform: str, account_id: str) -> str:
    return f"pms:channel:bucket:{platform}:{account_id}"


def take_on(pipe: Pipeline, key: str, rate: float, burst: int) -> None:
    """Take one token as part of the caller's pipeline; its reply is the seconds to wait
    (0: taken), as ``acquire`` reads it."""
    pipe.eval(_TAKE, 1, key, str(rate), str(burst))


async def acquire(redis: Redis, key: str, rate: float, burst: int) -> float:
    """Take one token, waiting as long as the bucket says; returns the seconds waited."""
    waited = 0.0
    while True:
        try:
            wait = float(await redis.eval(_TAKE, 1, key, str(rate), str(burst)))
        except RedisError as exc:
            log.warning("channel_limiter_unavailable", error=type(exc).__name__)
            return waited
        if wait <= 0:
            return waited
        await asyncio.sleep(wait)
        waited += wait
