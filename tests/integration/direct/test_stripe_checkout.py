"""Checkout with Stripe over real HTTP against the fake Stripe: hold → PaymentIntent → signed
webhook → confirmed; forged, stale and replayed webhooks change nothing; a failed payment
leaves the hold to expire, which frees the dates; a guest cancel refunds through Stripe."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from pms.core import inventory
from pms.db import transaction
from pms.direct.jobs import system_transaction
from pms.models.booking import Booking
from pms.models.payment import StripeEvent
from pms.sandbox.stripe_fake import FakeStripeConfig, StripeFake, create_stripe_fake_app
from pms.settings import Settings, reset_settings_cache
from tests.integration.direct.conftest import serve
from tests.integration.direct.engine import GUEST, Engine, engine_agency, search_params, stay

KEY = "sk_test_engine_0123456789"
WHSEC = "whsec_engine_secret"


@dataclass
class Env:
    fake: StripeFake
    stripe_url: str
    api_url: str
    http: httpx.AsyncClient
    e: Engine


@pytest.fixture
async def env(settings: Settings, app: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Env]:
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


async def test_card_payment_confirms_by_signed_webhook_only_and_cancel_refunds(env: Env) -> None:
    booking = await checkout_by_card(env, 20, 23)
    assert booking["status"] == "hold"
    pay = booking["payment"]
    total = booking["quote"]["total"]["amount_minor"]
    assert pay["provider"] == "stripe"
    assert pay["amount"]["amount_minor"] == total
    intent_id = pay["client"]["payment_intent_id"]
    assert pay["client"]["client_secret"].startswith(f"{intent_id}_secret_")
    assert env.fake.intents[intent_id]["amount"] == total

    # Forged (wrong secret), stale (outside the tolerance) and unsigned webhooks: 400, no change.
    body = json.dumps(
        {
            "id": "evt_forged_1",
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": intent_id,
                    "object": "payment_intent",
                    "amount": total,
                    "currency": "eur",
                    "status": "succeeded",
                }
            },
        }
    ).encode()
    hook = "/api/v1/webhooks/stripe"
    now = int(time.time())
    for headers in (
        {"Stripe-Signature": signature("whsec_wrong", body, now)},
        {"Stripe-Signature": signature(WHSEC, body, now - 3600)},
        {},
    ):
        r = await env.http.post(hook, content=body, headers=headers)
        assert r.status_code == 400, r.text
    assert await status_of(env, booking) == "hold"
    assert await event_count() == 0

    # The guest pays: the fake sends the signed webhook, and the hold is confirmed.
    r = await env.http.post(
        f"{env.stripe_url}/control/payment_intents/{intent_id}/complete",
        json={"outcome": "succeeded", "deliver": True},
    )
    assert r.status_code == 200, r.text
    event_id = r.json()["event"]["id"]
    assert [d["status_code"] for d in r.json()["deliveries"]] == [200]
    assert await status_of(env, booking) == "confirmed"
    view = (await env.http.get(link(env, booking))).json()

    # Replayed: acknowledged, nothing changes.
    r = await env.http.post(f"{env.stripe_url}/control/events/{event_id}/resend")
    assert r.status_code == 200, r.text
    assert [d["status_code"] for d in r.json()["deliveries"]] == [200, 200]
    assert await event_count() == 1
    again = (await env.http.get(link(env, booking))).json()
    assert again == view

    # The guest cancels 20 days ahead: 50 % back, refunded through Stripe.
    r = await env.http.post(f"{link(env, booking)}/cancel")
    assert r.status_code == 200, r.text
    refund = r.json()["refund"]["amount_minor"]
    assert refund == (total + 1) // 2
    refunds = (await env.http.get(f"{env.stripe_url}/control/refunds")).json()
    assert [(x["payment_intent"], x["amount"]) for x in refunds] == [(intent_id, refund)]


async def expire(env: Env, booking: dict[str, Any]) -> None:
    """Time passes: the hold's expiry is reached and the sweep expires it."""
    async with transaction(uuid.UUID(env.e.agency.id)) as session:
        await session.execute(
            update(Booking)
            .where(Booking.reference == booking["reference"])
            .values(hold_expires_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 1))
        )
    assert await inventory.expire_stale_holds_everywhere() == 1


async def test_a_payment_after_the_hold_expired_is_refunded_not_confirmed(env: Env) -> None:
    booking = await checkout_by_card(env, 60, 62)
    intent_id = booking["payment"]["client"]["payment_intent_id"]
    await expire(env, booking)
    r = await env.http.post(
        f"{env.stripe_url}/control/payment_intents/{intent_id}/complete",
        json={"outcome": "succeeded", "deliver": True},
    )
    assert r.status_code == 200, r.text
    assert [d["status_code"] for d in r.json()["deliveries"]] == [200]
    assert await status_of(env, booking) == "expired"
    refunds = (await env.http.get(f"{env.stripe_url}/control/refunds")).json()
    total = booking["payment"]["amount"]["amount_minor"]
    assert [(x["payment_intent"], x["amount"]) for x in refunds] == [(intent_id, total)]


async def test_a_failed_payment_releases_the_dates_when_the_hold_expires(env: Env) -> None:
    booking = await checkout_by_card(env, 40, 44)
    intent_id = booking["payment"]["client"]["payment_intent_id"]
    r = await env.http.post(
        f"{env.stripe_url}/control/payment_intents/{intent_id}/complete",
        json={"outcome": "failed", "deliver": True},
    )
    assert r.status_code == 200, r.text
    assert await event_count() == 1
    # Still held (the guest may retry until the hold expires): not offered, not holdable.
    assert await status_of(env, booking) == "hold"
    found = await env.http.get(env.e.url("/search"), params=search_params(40, 44))
    assert found.json()["count"] == 0
    r = await env.http.post(env.e.url("/holds"), json=stay(env.e, 41, 43))
    assert r.status_code == 409

    await expire(env, booking)
    assert await status_of(env, booking) == "expired"
    found = await env.http.get(env.e.url("/search"), params=search_params(40, 44))
    assert found.json()["count"] == 1
    r = await env.http.post(env.e.url("/holds"), json=stay(env.e, 40, 44))
    assert r.status_code == 201, r.text
