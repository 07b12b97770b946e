"""One platform call under the engine's rules: the account's token bucket, the connection's
circuit breaker, retries with backoff and jitter honouring ``Retry-After``, one token refresh
on an expired token, and revocation when the platform refuses the credentials for good."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from pms.channel import connections
from pms.channel.adapters.base import (
    CredentialsRefused,
    PlatformError,
    TokenExpired,
    counting_retries,
)
from pms.channel.engine import breaker, limiter, retries
from pms.channel.metrics import PLATFORM_CALLS
from pms.logs import get_logger
from pms.models.channel import ChannelConnection
from pms.redis_client import get_redis
from pms.settings import Settings

T = TypeVar("T")
log = get_logger(__name__)


class Exhausted(Exception):
    """Every try failed (or the failure is not worth retrying); ``attempts`` were made."""

    def __init__(self, error: PlatformError, attempts: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.attempts = attempts


@dataclass
class _Grant:
    """The credentials shared by every ``Account`` of one flush, refreshed by one of them at a
    time (refresh tokens are single use: two refreshes at once would revoke the grant)."""

    credentials: dict[str, Any]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class Account:
    connection: ChannelConnection
    settings: Settings
    grant: _Grant = field(default_factory=lambda: _Grant({}))
    attempts: int = 0  # platform requests made through this account object

    @property
    def connection_id(self) -> uuid.UUID:
        return self.connection.id

    @property
    def credentials(self) -> dict[str, Any]:
        return self.grant.credentials

    @classmethod
    async def open(cls, connection: ChannelConnection, settings: Settings) -> Account:
        return cls(
            connection, settings, _Grant(await connections.fresh_credentials(settings, connection))
        )

    def fork(self) -> Account:
        """Another account object on the same grant, counting its own attempts (one per
        listing pushed concurrently)."""
        return Account(self.connection, self.settings, self.grant)

    async def refresh(self, failed: dict[str, Any]) -> None:
        """The platform said these credentials expired: refresh them, unless another account
        object of this grant already did."""
        async with self.grant.lock:
            if self.grant.credentials is failed:
                self.grant.credentials = await connections.fresh_credentials(
                    self.settings, self.connection, force=True
                )


def _bucket(settings: Settings, platform: str) -> tuple[float, int]:
    """The platform's token bucket from its settings (``<platform>_requests_per_second``,
    ``<platform>_burst``; Booking.com's settings are ``booking_…``)."""
    prefix = {"booking_com": "booking"}.get(platform, platform)
    rate = getattr(settings, f"{prefix}_requests_per_second", None)
    burst = getattr(settings, f"{prefix}_burst", None)
    if isinstance(rate, float) and isinstance(burst, int):
        return rate, burst
    return 1.0, 5


async def call(account: Account, fn: Callable[[dict[str, Any]], Awaitable[T]]) -> T:
    s = account.settings
    conn = account.connection
    redis = get_redis()
    rate, burst = _bucket(s, conn.platform)
    refreshed = False
    tries = 0
    bucket = limiter.bucket_key(conn.platform, conn.account_id)
    while True:
        await _breaker_and_token(redis, str(conn.id), bucket, rate, burst)
        tries += 1
        account.attempts += 1
        used = account.credentials
        try:
            with counting_retries() as retried:
                try:
                    result = await fn(used)
                finally:
                    account.attempts += retried[0]
        except TokenExpired as exc:
            await PLATFORM_CALLS.inc(conn.platform, "token_expired")
            if refreshed:
                raise Exhausted(exc, tries) from None
            refreshed = True
            await account.refresh(used)
            continue
        except CredentialsRefused:
            await PLATFORM_CALLS.inc(conn.platform, "refused")
            await connections.mark_revoked(conn.agency_id, conn.id, "credentials refused")
            raise
        except PlatformError as exc:
            await PLATFORM_CALLS.inc(conn.platform, "error" if exc.retryable else "rejected")
            await breaker.failed(
                redis, str(conn.id), s.channel_breaker_failures, s.channel_breaker_cooldown_seconds
            )
            if not exc.retryable or tries >= s.channel_max_attempts:
                raise Exhausted(exc, tries) from None
            await asyncio.sleep(
                retries.delay(
                    tries,
                    s.channel_retry_base_seconds,
                    s.channel_retry_max_seconds,
                    exc.retry_after,
                )
            )
            continue
        await _succeeded(redis, conn.platform, str(conn.id))
        return result


async def _breaker_and_token(
    redis: Redis, connection_id: str, bucket: str, rate: float, burst: int
) -> None:
    """The circuit checked (``CircuitOpen`` when open) and a token of the account's bucket
    taken, waiting as long as the bucket says: in one round trip when a token is there. The
    token is taken even when the circuit turns out open (one less for the platform, never
    one more). With Redis away, both let the call go ahead (as ``check`` and ``acquire``)."""
    pipe = redis.pipeline(transaction=False)
    pipe.hgetall(breaker.breaker_key(connection_id))
    limiter.take_on(pipe, bucket, rate, burst)
    try:
        raw, wait = await pipe.execute()
    except RedisError as exc:
        log.warning("channel_limiter_unavailable", error=type(exc).__name__)
        return
    current = breaker.state_of(raw)
    if current.state == "open":
        raise breaker.CircuitOpen(current.retry_in)
    if float(wait) > 0:
        await asyncio.sleep(float(wait))
        await limiter.acquire(redis, bucket, rate, burst)


async def _succeeded(redis: Redis, platform: str, connection_id: str) -> None:
    """A call that went through: counted, and the breaker's failures reset, in one round trip
    (with Redis away, neither: as ``PLATFORM_CALLS.inc`` and ``breaker.succeeded``)."""
    pipe = redis.pipeline(transaction=False)
    PLATFORM_CALLS.inc_on(pipe, platform, "ok")
    breaker.succeeded_on(pipe, connection_id)
    try:
        await pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("channel_breaker_unavailable", error=type(exc).__name__)
