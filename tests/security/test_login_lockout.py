"""Finding 10: wrong passwords slow down the one (account, address) pair that sends them, with
an increasing delay, and never lock the rightful owner out from elsewhere; sign-up is limited per
address."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from pms.core import login_throttle
from pms.settings import Settings, reset_settings_cache
from tests.factories import PASSWORD

OWNER = "owner@example.com"
Client = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def from_ip(app: Any) -> Client:
    """A client whose requests arrive from the given address."""

    @asynccontextmanager
    async def client(ip: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c

    return client


async def _login(c: httpx.AsyncClient, password: str) -> httpx.Response:
    return await c.post("/api/v1/auth/login", json={"email": OWNER, "password": password})


async def _elapse_wait(settings: Settings, ip: str) -> None:
    """Let the pair's current wait pass (what the clock would do), without sleeping."""
    r = aioredis.Redis.from_url(settings.require_redis_url())
    try:
        _, wait = login_throttle._keys(OWNER, ip)
        assert await r.delete(wait) == 1
    finally:
        await r.aclose()


async def test_a_guesser_slows_down_with_an_increasing_delay_and_the_owner_signs_in(
    client: httpx.AsyncClient, from_ip: Client, settings: Settings
) -> None:
    r = await client.post(
        "/api/v1/auth/signup", json={"email": OWNER, "password": PASSWORD, "agency_name": "O"}
    )
    assert r.status_code == 201, r.text
    attacker = "198.51.100.7"
    async with from_ip(attacker) as guesser, from_ip("203.0.113.20") as owner:
        free = settings.login_free_failures
        for _ in range(free):
            assert (await _login(guesser, "wrong-password")).status_code == 401
        waits = []
        for _ in range(6):
            r = await _login(guesser, "wrong-password")
            assert r.status_code == 429, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            waits.append(int(r.headers["retry-after"]))
            # Even the right password waits from this address: the pair is throttled.
            assert (await _login(guesser, PASSWORD)).status_code == 429
            await _elapse_wait(settings, attacker)
            assert (await _login(guesser, "wrong-password")).status_code == 401
        assert waits == [1, 2, 4, 8, 16, 32]

        # The owner, from their own address, is not locked out, and a success there
        # leaves the guesser's pair as it was.
        assert (await _login(owner, PASSWORD)).status_code == 200
        assert (await _login(guesser, PASSWORD)).status_code == 429


async def test_the_delay_is_capped_and_a_success_clears_the_pair(
    client: httpx.AsyncClient, from_ip: Client, settings: Settings
) -> None:
    assert login_throttle.delay_after(settings.login_free_failures + 40, settings) == float(
        settings.login_max_delay_seconds
    )
    await client.post(
        "/api/v1/auth/signup", json={"email": OWNER, "password": PASSWORD, "agency_name": "O"}
    )
    ip = "198.51.100.8"
    async with from_ip(ip) as c:
        for _ in range(settings.login_free_failures):
            assert (await _login(c, "typo-password")).status_code == 401
        await _elapse_wait(settings, ip)
        assert (await _login(c, PASSWORD)).status_code == 200
        # Cleared: the next mistake is a plain 401 again, with its free failures.
        for _ in range(settings.login_free_failures):
            assert (await _login(c, "typo-password")).status_code == 401


async def test_signup_is_rate_limited_per_address(
    from_ip: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNUP_ATTEMPTS_PER_IP", "3")
    reset_settings_cache()

    async def signup(c: httpx.AsyncClient, n: int) -> httpx.Response:
        return await c.post(
            "/api/v1/auth/signup",
            json={"email": f"s{n}@example.com", "password": PASSWORD, "agency_name": f"S{n}"},
        )

    async with from_ip("198.51.100.9") as busy, from_ip("203.0.113.30") as other:
        assert [(await signup(busy, n)).status_code for n in range(3)] == [201] * 3
        r = await signup(busy, 3)
        assert r.status_code == 429
        assert 0 < int(r.headers["retry-after"]) <= 3600
        assert (await signup(other, 4)).status_code == 201
