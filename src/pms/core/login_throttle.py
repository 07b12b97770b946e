"""Failed sign-ins slow down the one (account, address) pair that fails, not the account.

An account-wide lock let anyone lock out the rightful owner by guessing at a known e-mail. Here
each pair gets a few free failures, then must wait before its next attempt, twice as long after
every further failure, up to ``login_max_delay_seconds``: a guesser is slowed to a crawl while
the owner, from their own address, signs in as usual. A success clears the pair. Password
spraying from one address is bounded separately (``login_attempts_per_ip``)."""

from __future__ import annotations

import math

from redis.asyncio import Redis

from pms.core.errors import TooManyRequests
from pms.core.tokens import token_hash
from pms.settings import Settings

# How long a pair's failures are remembered after its last one.
MEMORY_SECONDS = 15 * 60


def _keys(email: str, client_ip: str) -> tuple[str, str]:
    pair = f"{token_hash(email)}:{client_ip}"
    return f"pms:login:failures:{pair}", f"pms:login:wait:{pair}"


def delay_after(failures: int, settings: Settings) -> float:
    """Seconds the pair must wait after its ``failures``-th failure in a row."""
    over = failures - settings.login_free_failures
    if over < 0:
        return 0.0
    return float(min(2**over, settings.login_max_delay_seconds))


async def check(redis: Redis, settings: Settings, email: str, client_ip: str) -> None:
    """429 with Retry-After while this pair must still wait."""
    _, wait = _keys(email, client_ip)
    remaining_ms = int(await redis.pttl(wait))
    if remaining_ms > 0:
        seconds = math.ceil(remaining_ms / 1000)
        raise TooManyRequests(
            f"Too many failed sign-ins from here; try again in {seconds} seconds.",
            headers={"Retry-After": str(seconds)},
        )


async def failed(redis: Redis, settings: Settings, email: str, client_ip: str) -> None:
    failures_key, wait = _keys(email, client_ip)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(failures_key)
        pipe.expire(failures_key, MEMORY_SECONDS + settings.login_max_delay_seconds)
        count, _ = await pipe.execute()
    delay = delay_after(int(count), settings)
    if delay > 0:
        await redis.set(wait, b"1", px=int(delay * 1000))


async def succeeded(redis: Redis, email: str, client_ip: str) -> None:
    await redis.delete(*_keys(email, client_ip))
