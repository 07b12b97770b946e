"""A circuit breaker per connection in Redis: after N failed calls in a row the circuit opens
for a cool-down, and calls are not attempted; the first call after it is the probe."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from pms.logs import get_logger

log = get_logger(__name__)


class CircuitOpen(Exception):
    def __init__(self, retry_in: float) -> None:
        super().__init__(f"circuit open for {retry_in:.1f} s more")
        self.retry_in = retry_in


@dataclass(frozen=True)
class BreakerState:
    state: str  # closed | open | half_open
    failures: int
    retry_in: float


def breaker_key(connection_id: str) -> str:
    return f"pms:channel:breaker:{connection_id}"


async def state(redis: Redis, connection_id: str) -> BreakerState:
    try:
        raw = await redis.hgetall(breaker_key(connection_id))
    except RedisError:
        return BreakerState("closed", 0, 0.0)
    return state_of(raw)


def state_of(raw: dict[Any, Any]) -> BreakerState:
    """The state from the breaker's hash (``HGETALL``; empty: closed)."""
    failures = int(raw.get("failures", 0))
    until = float(raw.get("open_until", 0))
    now = time.time()
    if until > now:
        return BreakerState("open", failures, until - now)
    return BreakerState("half_open" if until else "closed", failures, 0.0)


async def check(redis: Redis, connection_id: str) -> None:
    current = await state(redis, connection_id)
    if current.state == "open":
        raise CircuitOpen(current.retry_in)


async def failed(redis: Redis, connection_id: str, threshold: int, cooldown: float) -> None:
    key = breaker_key(connection_id)
    try:
        failures = int(await redis.hincrby(key, "failures", 1))
        await redis.expire(key, 3600)
        if failures >= threshold:
            await redis.hset(key, "open_until", str(time.time() + cooldown))
            log.warning("channel_circuit_open", connection_id=connection_id, failures=failures)
    except RedisError as exc:
        log.warning("channel_breaker_unavailable", error=type(exc).__name__)


def succeeded_on(pipe: Pipeline, connection_id: str) -> None:
    """``succeeded`` as part of the caller's pipeline."""
    pipe.delete(breaker_key(connection_id))


async def succeeded(redis: Redis, connection_id: str) -> None:
    try:
        await redis.delete(breaker_key(connection_id))
    except RedisError as exc:
        log.warning("channel_breaker_unavailable", error=type(exc).__name__)
