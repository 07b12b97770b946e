"""Direct-booking infrastructure tests: async condition waits, servers on loopback inside the
test's own event loop, an agency with a booking, and rows read back as a system job."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn

from pms.direct import search
from pms.embedded.process import free_port
from pms.sandbox.stripe_fake import FakeStripeConfig, StripeFake, create_stripe_fake_app
from pms.settings import Settings, reset_settings_cache
from tests.factories import property_body, signup
from tests.integration.direct.engine import engine_agency
from tests.integration.direct.stripe_env import KEY, WHSEC, Env
from tests.services import eventually

__all__ = ["eventually"]  # the shared poll-with-deadline, re-exported for these tests

T = TypeVar("T")


@pytest.fixture(autouse=True)
def _search_statements_compiled_afresh() -> None:
    """Search caches its compiled candidate statements per process: each test compiles its own,
    so a test of search runs the statement-building code, not what an earlier test left in the
    cache (mutmut forks every mutant's run from a process that ran the tests already)."""
    search._COMPILED.clear()


@asynccontextmanager
async def serve(app: Any, *, lifespan: str = "off") -> AsyncIterator[str]:
    """Serve an ASGI app over real HTTP on a loopback port, on the test's event loop (so it
    shares the loop-bound database engine with the test)."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, log_level="warning", lifespan=lifespan
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await eventually(
        lambda: _started(server, task), within=20, what=f"uvicorn on port {port} to start"
    )
    url = f"http://127.0.0.1:{port}"
    # Warm-up during set-up: the first connection imports httpcore, h11 and anyio's backend,
    # which would otherwise count as the test body blocking its event loop.
    async with httpx.AsyncClient() as client:
        await client.get(f"{url}/__warm-up__")
    try:
        yield url
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 20)


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> bool:
    if task.done():
        task.result()  # raises what made it stop
        raise AssertionError("uvicorn exited before it started")
    return server.started


@dataclass
class BookedAgency:
    agency_id: uuid.UUID
    booking_id: uuid.UUID
    reference: str
    token: str


@pytest.fixture
async def booked(client: httpx.AsyncClient) -> BookedAgency:
    """An agency (via the API) with one confirmed booking of 3 nights."""
    agency_id, token, _ = await signup(client, "Direct Infra Agency")
    auth = {"Authorization": f"Bearer {token}"}
    r = await client.post("/api/v1/properties", json=property_body(), headers=auth)
    assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/bookings",
        json={
            "property_id": r.json()["id"],
            "check_in": "2031-05-01",
            "check_out": "2031-05-04",
            "adults": 2,
            "guest": {"email": "greta@example.com", "last_name": "Gast", "language": "de"},
        },
        headers=auth,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return BookedAgency(uuid.UUID(agency_id), uuid.UUID(body["id"]), body["reference"], token)


@pytest.fixture
async def env(settings: Settings, app: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Env]:
    """The app and a fake Stripe, each on a loopback port, wired to each other, and an agency
    with a listed, priced property (instant book)."""
    fake = StripeFake(FakeStripeConfig(api_key=KEY, webhook_secret=WHSEC))
    async with (
        serve(create_stripe_fake_app(fake), lifespan="on") as stripe_url,
        serve(app) as api_url,
        httpx.AsyncClient(base_url=api_url, timeout=30) as http,
    ):
        monkeypatch.setenv("STRIPE_API_BASE", stripe_url)
        monkeypatch.setenv("STRIPE_SECRET_KEY", KEY)
        monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WHSEC)
        monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "pk_test_engine")
        reset_settings_cache()
        fake.config.webhook_url = f"{api_url}/api/v1/webhooks/stripe"
        yield Env(fake, stripe_url, api_url, http, await engine_agency(http))
