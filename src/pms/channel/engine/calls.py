"""One platform call under the engine's rules: the account's token bucket, the connection's
circuit breaker, retries with backoff and jitter honouring ``Retry-After``, one token refresh
on an expired token, and revocation when the platform refuses the credentials for good."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pms.channel import connections
from pms.channel.adapters.base import (
    CredentialsRefused,
    PlatformError,
    TokenExpired,
    counting_retries,
)
from pms.channel.engine import breaker, limiter, retries
from pms.channel.metrics import PLATFORM_CALLS
from pms.models.channel import ChannelConnection
from pms.redis_client import get_redis
from pms.settings import Settings

T = TypeVar("T")


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
    while True:
        await breaker.check(redis, str(conn.id))
        await limiter.acquire(
            redis, limiter.bucket_key(conn.platform, conn.account_id), rate, burst
        )
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
        await PLATFORM_CALLS.inc(conn.platform, "ok")
        await breaker.succeeded(redis, str(conn.id))
        return result
