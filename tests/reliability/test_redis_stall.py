"""Finding 6: a stalled Redis never gives a 500 or a hang. Each Redis call on the request path
times out quickly and the request is a 503 ``/problems/dependency-unavailable`` with
Retry-After; a booking, which does not need Redis, is created as usual."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from pms.settings import Settings
from tests.factories import PASSWORD, Agency, full_agency
from tests.reliability import test_chaos_kill as chaos
from tests.reliability.conftest import ApiProcess, paused
from tests.services import RedisServer

# The request timeout is 1 s; the answer must come well before a client's patience runs out.
PROMPT = 3.0


async def _timed(call: Callable[[], Awaitable[httpx.Response]]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    r = await call()
    return r, time.monotonic() - started


def _unavailable(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "/problems/dependency-unavailable"
    assert int(r.headers["retry-after"]) >= 1


async def _listed(client: httpx.AsyncClient) -> tuple[Agency, str]:
    a = await full_agency(client, "Stall Stays")
    r = await client.patch(
        f"/api/v1/properties/{a.property_id}", json={"is_listed": True}, headers=a.auth()
    )
    assert r.status_code == 200, r.text
    slug = (await client.get("/api/v1/agency", headers=a.auth())).json()["slug"]
    return a, str(slug)


async def test_a_stalled_redis_is_a_prompt_503_with_retry_after(
    client: httpx.AsyncClient, own_redis: RedisServer
) -> None:
    a, slug = await _listed(client)
    me = (await client.get("/api/v1/me", headers=a.auth())).json()
    hold: dict[str, Any] = {
        "property_id": a.property_id,
        "check_in": "2031-05-01",
        "check_out": "2031-05-03",
    }
    with paused(own_redis):
        calls: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
            "login": lambda: client.post(
                "/api/v1/auth/login", json={"email": me["email"], "password": PASSWORD}
            ),
            "public properties": lambda: client.get(f"/api/v1/public/{slug}/properties"),
            "public hold": lambda: client.post(f"/api/v1/public/{slug}/holds", json=hold),
            "event stream": lambda: client.get("/api/v1/events/stream", headers=a.auth()),
        }
        for name, call in calls.items():
            r, took = await _timed(call)
            _unavailable(r)
            assert took < PROMPT, (name, took)
        # A booking does not need Redis: created at once, Redis or not.
        r, took = await _timed(
            lambda: client.post(
                "/api/v1/bookings",
                json={
                    "property_id": a.property_id,
                    "check_in": "2031-06-01",
                    "check_out": "2031-06-04",
                    "guest_id": a.guest_id,
                },
                headers={**a.auth(), "Idempotency-Key": "stall-1"},
            )
        )
        assert r.status_code == 201, r.text
        assert took < PROMPT, took
    # Redis is back: the same calls work again, and the hold was never made.
    r = await client.post(f"/api/v1/public/{slug}/holds", json=hold)
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/auth/login", json={"email": me["email"], "password": PASSWORD})
    assert r.status_code == 200, r.text


async def test_an_unreachable_redis_is_a_503_too(
    client: httpx.AsyncClient, own_redis: RedisServer
) -> None:
    _, slug = await _listed(client)
    assert own_redis.server is not None
    server = own_redis.server
    await asyncio.to_thread(server.stop)
    try:
        r, took = await _timed(lambda: client.get(f"/api/v1/public/{slug}/properties"))
        _unavailable(r)
        assert took < PROMPT
    finally:
        await asyncio.to_thread(server.start)


PAUSE_SECONDS = 10.0


def test_chaos_redis_paused_during_a_burst_of_bookings_gives_no_500(
    own_redis: RedisServer, api_process: ApiProcess, settings: Settings
) -> None:
    """Must-show: 100 booking creates with Idempotency-Keys run against the API process while
    Redis is paused for 10 s, beside public and login traffic that needs Redis. No answer is a
    500; every 503 carries Retry-After; every booking exists once and replays as answered.
    (The clients get their own event loop, as in test_chaos_kill.)"""
    asyncio.run(_burst_with_redis_paused(own_redis, api_process, settings))


async def _burst_with_redis_paused(
    own_redis: RedisServer, api_process: ApiProcess, settings: Settings
) -> None:
    async with httpx.AsyncClient(base_url=api_process.url, timeout=30) as setup:
        a, slug = await _listed(setup)
        me = (await setup.get("/api/v1/me", headers=a.auth())).json()
    keys = [f"chaos-{uuid.uuid4()}" for _ in range(chaos.CREATES)]
    clients = [chaos.Client(k, chaos._body(a, n, k)) for n, k in enumerate(keys)]
    others: list[httpx.Response] = []
    slowest = 0.0

    async with httpx.AsyncClient(base_url=api_process.url, timeout=30) as http:

        async def create(c: chaos.Client) -> None:
            nonlocal slowest
            async with limit:
                r, took = await _timed(
                    lambda: http.post(
                        "/api/v1/bookings",
                        json=c.body,
                        headers={**a.auth(), "Idempotency-Key": c.key},
                    )
                )
                slowest = max(slowest, took)
                c.statuses.append(r.status_code)
                c.answer = r

        async def redis_traffic(until: float) -> None:
            while time.monotonic() < until:
                others.append(await http.get(f"/api/v1/public/{slug}/properties"))
                others.append(
                    await http.post(
                        "/api/v1/auth/login", json={"email": me["email"], "password": "wrong pw 1"}
                    )
                )

        limit = asyncio.Semaphore(chaos.CONCURRENCY)
        with paused(own_redis):
            until = time.monotonic() + PAUSE_SECONDS
            await asyncio.gather(redis_traffic(until), *(create(c) for c in clients))
            await redis_traffic(until)  # Redis stays paused for the full 10 s
        for c in clients:
            assert c.answer is not None
            assert c.answer.status_code == 201, c.answer.text
            again = await http.post(
                "/api/v1/bookings", json=c.body, headers={**a.auth(), "Idempotency-Key": c.key}
            )
            assert again.status_code == 201
            assert again.headers["idempotent-replayed"] == "true"
            assert again.json() == c.answer.json()
        after = await http.get(f"/api/v1/public/{slug}/properties")
        assert after.status_code == 200, after.text

    statuses = [r.status_code for r in others] + [s for c in clients for s in c.statuses]
    assert 500 not in statuses
    assert all(s < 500 or s == 503 for s in statuses), sorted(set(statuses))
    unavailable = [r for r in others if r.status_code == 503]
    assert unavailable, "Redis was paused: the requests that need it were refused"
    for r in unavailable:
        _unavailable(r)
    # Booking creation never waited for the paused Redis.
    assert slowest < PROMPT * 2, slowest
    await chaos.check_each_booking_once(settings, a, clients)
