"""Checkout with Stripe over real HTTP against the fake Stripe: hold → PaymentIntent → signed
webhook → confirmed; forged, stale and replayed webhooks change nothing; a failed payment
leaves the hold to expire, which frees the dates; a guest cancel refunds through Stripe."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, update

from pms.core import holds
from pms.db import transaction
from pms.models.booking import Booking
from tests.integration.direct.engine import search_params, stay
from tests.integration.direct.stripe_env import (
    Env,
    checkout_by_card,
    event_count,
    intent_event,
    link,
    refused_signatures,
    status_of,
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
    body = intent_event(
        "evt_forged_1",
        "payment_intent.succeeded",
        {"id": intent_id, "amount": total, "status": "succeeded"},
    )
    hook = "/api/v1/webhooks/stripe"
    for headers in refused_signatures(body):
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
    assert await holds.expire_stale_holds_everywhere() == 1


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
