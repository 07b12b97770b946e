"""Request to book paid by card, over real HTTP against the fake Stripe: the card is authorised
(manual capture) while the dates are held; the signed `amount_capturable_updated` webhook
records the request; staff approval captures it, a decline (or a guest cancel) releases it; a
capture Stripe refuses leaves the request open with a 502 to staff; forged and replayed webhooks
change nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import func, select, update

from pms.core import holds
from pms.core.permissions import Role
from pms.db import transaction
from pms.models.alert import Alert
from pms.models.booking import Booking
from pms.models.email import OutboxEmail
from pms.models.payment import Payment
from tests.integration.direct.conftest import eventually
from tests.integration.direct.engine import search_params, stay
from tests.integration.direct.stripe_env import (
    WHSEC,
    Env,
    checkout_by_card,
    event_count,
    intent_event,
    link,
    refused_signatures,
    status_of,
)


async def request_to_book(env: Env) -> None:
    r = await env.http.patch(
        f"/api/v1/properties/{env.e.property_id}",
        json={"instant_book": False},
        headers=env.e.agency.auth(),
    )
    assert r.status_code == 200, r.text


async def authorise(env: Env, intent_id: str) -> dict[str, Any]:
    """The guest's card is authorised (Stripe.js confirming the PaymentIntent); the fake sends
    the signed webhook."""
    r = await env.http.post(
        f"{env.stripe_url}/control/payment_intents/{intent_id}/complete",
        json={"outcome": "succeeded", "deliver": True},
    )
    assert r.status_code == 200, r.text
    assert r.json()["event"]["type"] == "payment_intent.amount_capturable_updated"
    assert [d["status_code"] for d in r.json()["deliveries"]] == [200]
    return dict(r.json()["event"])


async def requested(env: Env) -> dict[str, Any]:
    """Staff's view of the one open request."""
    r = await env.http.get(
        "/api/v1/bookings", params={"status": "requested"}, headers=env.e.agency.auth()
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == 1, items
    return dict(items[0])


async def act(env: Env, booking_id: str, action: str, role: Role) -> httpx.Response:
    return await env.http.post(
        f"/api/v1/bookings/{booking_id}/{action}", headers=env.e.agency.auth(role)
    )


async def payment_of(env: Env, intent_id: str) -> Payment:
    async with transaction(uuid.UUID(env.e.agency.id)) as session:
        return (
            await session.execute(select(Payment).where(Payment.provider_ref == intent_id))
        ).scalar_one()


async def emails(env: Env, booking_id: str) -> list[tuple[str, str]]:
    async with transaction(uuid.UUID(env.e.agency.id)) as session:
        rows = await session.execute(
            select(OutboxEmail.template, OutboxEmail.to_address)
            .where(OutboxEmail.booking_id == uuid.UUID(booking_id))
            .order_by(OutboxEmail.created_at)
        )
        return [(t, a) for t, a in rows.all()]


async def open_alerts(env: Env) -> list[str]:
    async with transaction(uuid.UUID(env.e.agency.id)) as session:
        rows = await session.execute(select(Alert.kind).where(Alert.resolved_at.is_(None)))
        return sorted(rows.scalars().all())


def stripe_calls(env: Env, intent_id: str, what: str) -> list[str | None]:
    endpoint = f"POST /v1/payment_intents/{intent_id}/{what}"
    return [r["idempotency_key"] for r in env.fake.requests if r["endpoint"] == endpoint]


async def delivered(env: Env, intent_id: str, event_type: str) -> bool:
    return any(
        e.body["type"] == event_type
        and e.body["data"]["object"]["id"] == intent_id
        and [d.status_code for d in e.deliveries] == [200]
        for e in env.fake.events.values()
    )


async def card_request(env: Env, start: int, end: int) -> tuple[dict[str, Any], str]:
    """A guest checks out by card on a request-to-book property and the card is authorised."""
    await request_to_book(env)
    booking = await checkout_by_card(env, start, end)
    intent_id = booking["payment"]["client"]["payment_intent_id"]
    await authorise(env, intent_id)
    assert await status_of(env, booking) == "requested"
    return booking, intent_id


async def test_an_approved_card_request_is_captured_and_confirmed(env: Env) -> None:
    await request_to_book(env)
    booking = await checkout_by_card(env, 20, 23)
    assert booking["status"] == "hold"
    pay = booking["payment"]
    total = booking["quote"]["total"]["amount_minor"]
    intent_id = pay["client"]["payment_intent_id"]
    assert (pay["provider"], pay["status"], pay["amount"]["amount_minor"]) == (
        "stripe",
        "pending",
        total,
    )
    intent = env.fake.intents[intent_id]
    assert (intent["capture_method"], intent["amount"]) == ("manual", total)

    # While the card is being authorised the dates stay held, as in the instant-book flow.
    assert (await env.http.get(env.e.url("/search"), params=search_params(20, 23))).json()[
        "count"
    ] == 0
    assert (await env.http.post(env.e.url("/holds"), json=stay(env.e, 21, 22))).status_code == 409

    # Authorised: the signed webhook records the request; nothing is taken yet.
    await authorise(env, intent_id)
    assert env.fake.intents[intent_id]["status"] == "requires_capture"
    assert env.fake.intents[intent_id]["amount_received"] == 0
    view = (await env.http.get(link(env, booking))).json()
    assert (view["status"], view["reference"]) == ("requested", view["reference"])
    assert view["reference"] != booking["reference"]  # the request is its own booking
    request = await requested(env)
    payment = await payment_of(env, intent_id)
    assert (payment.status.value, payment.booking_id) == ("authorized", uuid.UUID(request["id"]))
    assert payment.authorized_at is not None

    # Staff approve: the payment is captured (with an idempotency key) and the request confirmed.
    r = await act(env, request["id"], "confirm", Role.STAFF)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed"
    assert env.fake.intents[intent_id]["status"] == "succeeded"
    assert env.fake.intents[intent_id]["amount_received"] == total
    keys = stripe_calls(env, intent_id, "capture")
    assert len(keys) == 1
    assert keys[0] is not None
    payment = await payment_of(env, intent_id)
    assert (payment.status.value, payment.succeeded_at is not None) == ("succeeded", True)
    # Stripe's own payment_intent.succeeded follows and changes nothing.
    await eventually(
        lambda: delivered(env, intent_id, "payment_intent.succeeded"),
        what="payment_intent.succeeded delivered",
    )
    assert await status_of(env, booking) == "confirmed"
    assert await open_alerts(env) == []
    # Approving again is a no-op: nothing captured twice.
    assert (await act(env, request["id"], "confirm", Role.STAFF)).status_code == 200
    assert len(stripe_calls(env, intent_id, "capture")) == 1

    sent = await emails(env, request["id"])
    assert ("request_received", "lena@example.com") in sent
    assert ("request_approved", "lena@example.com") in sent
    assert any(t == "new_booking" for t, _ in sent)  # the agency hears of the request


async def test_a_declined_card_request_releases_the_authorisation(env: Env) -> None:
    booking, intent_id = await card_request(env, 30, 33)
    request = await requested(env)
    # Staff may approve but not decline (domain.md: decline is a manager's cancel right).
    assert (await act(env, request["id"], "decline", Role.STAFF)).status_code == 403
    r = await act(env, request["id"], "decline", Role.MANAGER)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "declined"
    intent = env.fake.intents[intent_id]
    assert (intent["status"], intent["cancellation_reason"]) == ("canceled", "abandoned")
    assert intent["amount_received"] == 0
    assert len(stripe_calls(env, intent_id, "cancel")) == 1
    assert (await payment_of(env, intent_id)).status.value == "canceled"
    assert stripe_calls(env, intent_id, "capture") == []
    await eventually(
        lambda: delivered(env, intent_id, "payment_intent.canceled"),
        what="payment_intent.canceled delivered",
    )
    assert await status_of(env, booking) == "declined"
    assert ("request_declined", "lena@example.com") in await emails(env, request["id"])


async def test_a_guest_cancelling_a_card_request_releases_the_authorisation(env: Env) -> None:
    booking, intent_id = await card_request(env, 34, 36)
    r = await env.http.post(f"{link(env, booking)}/cancel")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert env.fake.intents[intent_id]["status"] == "canceled"
    assert (await payment_of(env, intent_id)).status.value == "canceled"
    # Nothing was taken, so nothing is refunded at Stripe.
    assert (await env.http.get(f"{env.stripe_url}/control/refunds")).json() == []


async def test_a_refused_capture_leaves_the_request_open_with_a_502(env: Env) -> None:
    booking, intent_id = await card_request(env, 40, 42)
    request = await requested(env)
    # The authorisation lapses at Stripe; its webhook is late.
    r = await env.http.post(
        f"{env.stripe_url}/control/payment_intents/{intent_id}/lapse", json={"deliver": False}
    )
    assert r.status_code == 200, r.text
    lapse_event = r.json()["event"]["id"]

    r = await act(env, request["id"], "confirm", Role.STAFF)
    assert r.status_code == 502, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"] == "/problems/capture-failed"
    assert "canceled" in problem["detail"]
    assert "sk_test" not in r.text
    assert WHSEC not in r.text
    # Nothing changed: still a request, the payment still as it was, no approval e-mail.
    assert await status_of(env, booking) == "requested"
    assert (await payment_of(env, intent_id)).status.value == "authorized"
    assert "request_approved" not in [t for t, _ in await emails(env, request["id"])]

    # The late webhook arrives: the payment is marked cancelled and staff are alerted.
    r = await env.http.post(f"{env.stripe_url}/control/events/{lapse_event}/resend")
    assert [d["status_code"] for d in r.json()["deliveries"]] == [200]
    assert (await payment_of(env, intent_id)).status.value == "canceled"
    assert await open_alerts(env) == ["card_authorisation_lapsed"]
    # Approving still cannot take the money; declining works and calls Stripe no more.
    assert (await act(env, request["id"], "confirm", Role.STAFF)).status_code == 502
    assert (await act(env, request["id"], "decline", Role.MANAGER)).status_code == 200
    assert stripe_calls(env, intent_id, "cancel") == []
    assert await status_of(env, booking) == "declined"


async def test_a_capture_whose_approval_did_not_commit_is_not_charged_twice(env: Env) -> None:
    """Stripe captured, but the approval's transaction was lost: the succeeded webhook raises an
    alert; approving again captures nothing twice (same idempotency key, then read-back)."""
    booking, intent_id = await card_request(env, 44, 46)
    request = await requested(env)
    r = await env.http.post(
        f"{env.stripe_url}/v1/payment_intents/{intent_id}/capture",
        headers={"Authorization": f"Bearer {env.fake.config.api_key}"},
    )
    assert r.status_code == 200, r.text
    await eventually(
        lambda: delivered(env, intent_id, "payment_intent.succeeded"),
        what="payment_intent.succeeded delivered",
    )
    assert await open_alerts(env) == ["payment_captured_request_open"]
    assert await status_of(env, booking) == "requested"
    r = await act(env, request["id"], "confirm", Role.STAFF)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed"
    assert len(stripe_calls(env, intent_id, "capture")) == 1  # only the one before
    assert (
        env.fake.intents[intent_id]["amount_received"]
        == booking["payment"]["amount"]["amount_minor"]
    )


async def test_forged_and_replayed_authorisation_webhooks_change_nothing(env: Env) -> None:
    await request_to_book(env)
    booking = await checkout_by_card(env, 50, 52)
    intent_id = booking["payment"]["client"]["payment_intent_id"]
    total = booking["payment"]["amount"]["amount_minor"]
    body = intent_event(
        "evt_forged_auth",
        "payment_intent.amount_capturable_updated",
        {
            "id": intent_id,
            "amount": total,
            "amount_capturable": total,
            "status": "requires_capture",
        },
    )
    for headers in refused_signatures(body):
        r = await env.http.post("/api/v1/webhooks/stripe", content=body, headers=headers)
        assert r.status_code == 400, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    assert await status_of(env, booking) == "hold"
    assert await event_count() == 0
    assert (await payment_of(env, intent_id)).status.value == "pending"

    event = await authorise(env, intent_id)
    view = (await env.http.get(link(env, booking))).json()
    assert view["status"] == "requested"
    r = await env.http.post(f"{env.stripe_url}/control/events/{event['id']}/resend")
    assert [d["status_code"] for d in r.json()["deliveries"]] == [200, 200]
    assert await event_count() == 1
    assert (await env.http.get(link(env, booking))).json() == view
    async with transaction(uuid.UUID(env.e.agency.id)) as session:
        requests = await session.execute(
            select(func.count()).select_from(Booking).where(Booking.status == "requested")
        )
        assert requests.scalar_one() == 1


async def test_an_authorisation_for_an_expired_hold_is_released(env: Env) -> None:
    await request_to_book(env)
    booking = await checkout_by_card(env, 60, 62)
    intent_id = booking["payment"]["client"]["payment_intent_id"]
    async with transaction(uuid.UUID(env.e.agency.id)) as session:
        await session.execute(
            update(Booking)
            .where(Booking.reference == booking["reference"])
            .values(hold_expires_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 1))
        )
    assert await holds.expire_stale_holds_everywhere() == 1
    await authorise(env, intent_id)
    assert await status_of(env, booking) == "expired"
    assert env.fake.intents[intent_id]["status"] == "canceled"
    assert (await payment_of(env, intent_id)).status.value == "canceled"
    async with transaction(uuid.UUID(env.e.agency.id)) as session:
        requests = await session.execute(
            select(func.count()).select_from(Booking).where(Booking.status == "requested")
        )
        assert requests.scalar_one() == 0
