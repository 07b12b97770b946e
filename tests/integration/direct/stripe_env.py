"""A fake Stripe served on loopback next to the app, wired to it through the settings, and the
steps of a card checkout (the `env` fixture is in this package's conftest)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select

from pms.direct.jobs import system_transaction
from pms.models.payment import StripeEvent
from pms.sandbox.stripe_fake import StripeFake
from tests.integration.direct.engine import GUEST, Engine, stay

KEY = "sk_test_engine_0123456789"
WHSEC = "whsec_engine_secret"


@dataclass
class Env:
    fake: StripeFake
    stripe_url: str
    api_url: str
    http: httpx.AsyncClient
    e: Engine


async def checkout_by_card(env: Env, start: int, end: int) -> dict[str, Any]:
    r = await env.http.post(env.e.url("/holds"), json=stay(env.e, start, end))
    assert r.status_code == 201, r.text
    r = await env.http.post(
        env.e.url("/bookings"),
        json={
            "hold_token": r.json()["hold_token"],
            "guest": GUEST,
            "accepted_terms": True,
            "payment_method": "stripe",
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def link(env: Env, booking: dict[str, Any]) -> str:
    return str(booking["manage_url"]).replace("http://127.0.0.1:8000", env.api_url)


async def status_of(env: Env, booking: dict[str, Any]) -> str:
    r = await env.http.get(link(env, booking))
    assert r.status_code == 200, r.text
    return str(r.json()["status"])


def signature(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


async def event_count() -> int:
    async with system_transaction() as session:
        return int(
            (await session.execute(select(func.count()).select_from(StripeEvent))).scalar_one()
        )
