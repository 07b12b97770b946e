"""Finding 6: a stalled Redis never gives a 500 or a hang. Each Redis call on the request path
times out quickly and the request is a 503 ``/problems/dependency-unavailable`` with
Retry-After; a booking, which does not need Redis, is created as usual."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.factories import PASSWORD, Agency, full_agency
from tests.reliability.conftest import paused
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
