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
from pms.channel.adapters.base import CredentialsRefused, PlatformError, TokenExpired
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
class Account:
    connection: ChannelConnection
    settings: Settings
    credentials: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0  # platform requests made through this account object

    @property
    def connection_id(self) -> uuid.UUID:
        return self.connection.id

    @classmethod
    async def open(cls, connection: ChannelConnection, settings: Settings) -> Account:
        account = cls(connection, settings)
        account.credentials = await connections.fresh_credentials(settings, connection)
        return account


def _bucket(settings: Settings, platform: str) -> tuple[float, int]:
    if platform == "airbnb":
        return settings.airbnb_requests_per_second, settings.airbnb_burst
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
        try:
            result = await fn(account.credentials)
        except TokenExpired as exc:
            PLATFORM_CALLS.labels(conn.platform, "token_expired").inc()
            if refreshed:
                raise Exhausted(exc, tries) from None
            refreshed = True
            account.credentials = await connections.fresh_credentials(s, conn, force=True)
            continue
        except CredentialsRefused:
            PLATFORM_CALLS.labels(conn.platform, "refused").inc()
            await connections.mark_revoked(conn.agency_id, conn.id, "credentials refused")
            raise
        except PlatformError as exc:
            PLATFORM_CALLS.labels(conn.platform, "error" if exc.retryable else "rejected").inc()
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
        PLATFORM_CALLS.labels(conn.platform, "ok").inc()
        await breaker.succeeded(redis, str(conn.id))
        return result
