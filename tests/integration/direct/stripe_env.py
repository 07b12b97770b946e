"""A fake Stripe served on loopback next to the app, wired to it through the settings, and the
steps of a card checkout (the `env` fixture is in this package's conftest)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
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


def intent_event(event_id: str, event_type: str, intent: dict[str, Any]) -> bytes:
    """The body of a Stripe event about a payment intent, as anyone could write it."""
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": {"object": "payment_intent", "currency": "eur", **intent}},
        }
    ).encode()


def refused_signatures(body: bytes) -> list[dict[str, str]]:
    """Headers the webhook must refuse for ``body``: the wrong secret, an hour old, malformed,
    and none at all."""
    now = int(time.time())
    return [
        {"Stripe-Signature": signature("whsec_wrong", body, now)},
        {"Stripe-Signature": signature(WHSEC, body, now - 3600)},
        {"Stripe-Signature": "t=1,v1=00"},
        {},
    ]


async def event_count() -> int:
    async with system_transaction() as session:
        return int(
            (await session.execute(select(func.count()).select_from(StripeEvent))).scalar_one()
        )
