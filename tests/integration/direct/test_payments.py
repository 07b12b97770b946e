"""Payments against the fake Stripe over real HTTP: PaymentIntents, signed webhooks through the
API (forged, stale, missing and replayed ones change nothing), refunds, and offline payments."""

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
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core.errors import Conflict, Unprocessable
from pms.core.money import Money
from pms.db import transaction
from pms.direct.jobs import system_transaction
from pms.direct.payments import (
    MethodNotSupported,
    OfflineProvider,
    OutcomeKind,
    PaymentOutcome,
    PaymentProviderError,
    PaymentRequest,
    StripeEventData,
    StripeProvider,
    handle_stripe_event,
    mark_offline_payment_received,
    on_payment_outcome,
    refresh_stripe_payment,
    refund_payment,
    start_payment,
)
from pms.direct.payments import service as payment_service
from pms.models.payment import Payment, PaymentMethod, PaymentStatus, StripeEvent
from pms.sandbox.stripe_fake import FakeStripeConfig, StripeFake, create_stripe_fake_app
from pms.settings import Settings, get_settings, reset_settings_cache
from tests.integration.direct.conftest import BookedAgency, serve

KEY = "sk_test_directinfra_0123456789"
WHSEC = "whsec_directinfra_secret"
EUR = "EUR"


@dataclass
class Stripe:
    fake: StripeFake
    url: str
    api_url: str
    provider: StripeProvider
    outcomes: list[PaymentOutcome]

    @property
    def webhook_url(self) -> str:
        return f"{self.api_url}/api/v1/webhooks/stripe"


@pytest.fixture
async def stripe(
    settings: Settings, app: Any, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Stripe]:
    fake = StripeFake(FakeStripeConfig(api_key=KEY, webhook_secret=WHSEC))
    outcomes: list[PaymentOutcome] = []

    async def booking_flow(session: AsyncSession, outcome: PaymentOutcome) -> None:
        # Runs inside the webhook's transaction: it sees the payment already updated.
        status = (
            await session.execute(select(Payment.status).where(Payment.id == outcome.payment_id))
        ).scalar_one()
        assert status.value == outcome.kind.value
        outcomes.append(outcome)

    on_payment_outcome(booking_flow)
    try:
        async with (
            serve(create_stripe_fake_app(fake), lifespan="on") as stripe_url,
            serve(app) as api_url,
        ):
            monkeypatch.setenv("STRIPE_API_BASE", stripe_url)
            monkeypatch.setenv("STRIPE_SECRET_KEY", KEY)
            monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WHSEC)
            monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "pk_test_directinfra")
            reset_settings_cache()
            fake.config.webhook_url = f"{api_url}/api/v1/webhooks/stripe"
            yield Stripe(
                fake, stripe_url, api_url, StripeProvider.from_settings(get_settings()), outcomes
            )
    finally:
        payment_service._outcome_handlers.remove(booking_flow)


def request(
    b: BookedAgency, amount: int = 45000, method: PaymentMethod = PaymentMethod.CARD
) -> PaymentRequest:
    return PaymentRequest(
        agency_id=b.agency_id,
        booking_id=b.booking_id,
        booking_reference=b.reference,
        amount=Money(amount, EUR),
        method=method,
        description=f"Booking {b.reference}",
    )


async def pay(stripe: Stripe, b: BookedAgency, amount: int = 45000) -> tuple[uuid.UUID, str]:
    async with transaction(b.agency_id) as session:
        started = await start_payment(session, stripe.provider, request(b, amount))
    return started.payment_id, started.client["payment_intent_id"]


async def payment(payment_id: uuid.UUID) -> Payment:
    async with system_transaction() as session:
        return (await session.execute(select(Payment).where(Payment.id == payment_id))).scalar_one()


async def stripe_event_count() -> int:
    async with system_transaction() as session:
        return (await session.execute(select(func.count()).select_from(StripeEvent))).scalar_one()


def signed(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


# --- PaymentIntents ---------------------------------------------------------------------------


async def test_a_payment_intent_is_created_over_http_and_recorded_once(
    booked: BookedAgency, stripe: Stripe
) -> None:
    async with transaction(booked.agency_id) as session:
        started = await start_payment(session, stripe.provider, request(booked))
    intent_id = started.client["payment_intent_id"]
    assert started.status is PaymentStatus.PENDING
    assert started.client["client_secret"].startswith(f"{intent_id}_secret_")
    assert started.client["publishable_key"] == "pk_test_directinfra"
    intent = stripe.fake.intents[intent_id]
    assert (intent["amount"], intent["currency"]) == (45000, "eur")
    assert intent["metadata"] == {
        "agency_id": str(booked.agency_id),
        "booking_id": str(booked.booking_id),
        "booking_reference": booked.reference,
    }
    assert intent["automatic_payment_methods"] == {"enabled": "true"}
    key = stripe.fake.requests[-1]["idempotency_key"]
    assert key.startswith("pms-")

    # Asking again (a retried checkout) reuses the key, the PaymentIntent and the row.
    async with transaction(booked.agency_id) as session:
        again = await start_payment(session, stripe.provider, request(booked))
    assert again.payment_id == started.payment_id
    assert again.client["payment_intent_id"] == intent_id
    assert len(stripe.fake.intents) == 1
    assert stripe.fake.requests[-1]["idempotency_key"] == key

    row = await payment(started.payment_id)
    assert (row.provider.value, row.provider_ref, row.status) == (
        "stripe",
        intent_id,
        PaymentStatus.PENDING,
    )
    assert (row.amount_minor, row.currency, row.booking_id) == (45000, EUR, booked.booking_id)


async def test_stripe_refusals_become_provider_errors_without_the_key(
    booked: BookedAgency, stripe: Stripe
) -> None:
    wrong = StripeProvider.from_settings(
        get_settings().model_copy(update={"stripe_secret_key": SecretStr("sk_test_wrong_key_9999")})
    )
    with pytest.raises(PaymentProviderError) as exc:
        await wrong.client.create_payment_intent(
            amount_minor=100, currency="EUR", metadata={}, idempotency_key="k1"
        )
    assert exc.value.status == 502
    assert exc.value.extra["provider_status"] == 401
    assert KEY not in exc.value.detail
    with pytest.raises(PaymentProviderError) as exc:
        await stripe.provider.client.retrieve_payment_intent("pi_missing")
    assert exc.value.extra["provider_code"] == "resource_missing"

    # The same idempotency key with other parameters is refused, as Stripe does.
    await stripe.provider.client.create_payment_intent(
        amount_minor=100, currency="EUR", metadata={}, idempotency_key="k2"
    )
    with pytest.raises(PaymentProviderError) as exc:
        await stripe.provider.client.create_payment_intent(
            amount_minor=200, currency="EUR", metadata={}, idempotency_key="k2"
        )
    assert exc.value.extra["provider_error_type"] == "idempotency_error"


# --- webhooks ---------------------------------------------------------------------------------


async def test_a_signed_webhook_marks_the_payment_succeeded_and_hands_over_to_the_booking_flow(
    booked: BookedAgency, stripe: Stripe
) -> None:
    payment_id, intent_id = await pay(stripe, booked)
    async with httpx.AsyncClient(base_url=stripe.url) as c:
        r = await c.post(
            f"/control/payment_intents/{intent_id}/complete", json={"outcome": "succeeded"}
        )
    assert r.status_code == 200, r.text
    assert r.json()["deliveries"][0]["status_code"] == 200
    event_id = r.json()["event"]["id"]

    row = await payment(payment_id)
    assert row.status is PaymentStatus.SUCCEEDED
    assert row.succeeded_at is not None
    assert [(o.kind, o.event_id, o.booking_id, o.agency_id, o.amount) for o in stripe.outcomes] == [
        (OutcomeKind.SUCCEEDED, event_id, booked.booking_id, booked.agency_id, Money(45000, EUR))
    ]
    assert await stripe_event_count() == 1


async def test_a_declined_card_fails_the_payment_and_a_second_card_succeeds(
    booked: BookedAgency, stripe: Stripe
) -> None:
    payment_id, intent_id = await pay(stripe, booked)
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(base_url=stripe.url, headers=headers) as c:
        r = await c.post(
            f"/v1/payment_intents/{intent_id}/confirm",
            data={"payment_method": "pm_card_chargeDeclined"},
        )
        assert r.status_code == 402
        assert r.json()["error"]["code"] == "card_declined"
        row = await payment(payment_id)
        assert row.status is PaymentStatus.FAILED
        assert row.failure_reason == "Your card was declined."

        r = await c.post(
            f"/v1/payment_intents/{intent_id}/confirm", data={"payment_method": "pm_card_visa"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "succeeded"
    row = await payment(payment_id)
    assert row.status is PaymentStatus.SUCCEEDED
    assert [o.kind for o in stripe.outcomes] == [OutcomeKind.FAILED, OutcomeKind.SUCCEEDED]

    # A late failure event after the success changes nothing.
    late = stripe.fake.new_event("payment_intent.payment_failed", stripe.fake.intents[intent_id])
    assert (await stripe.fake.deliver(late)).status_code == 200
    assert (await payment(payment_id)).status is PaymentStatus.SUCCEEDED
    assert len(stripe.outcomes) == 2


@pytest.mark.parametrize(
    "attack",
    [
        "missing header",
        "forged signature",
        "tampered body",
        "stale timestamp",
        "future timestamp",
        "garbled header",
        "not configured",
    ],
)
async def test_unverifiable_webhooks_are_refused_with_400_and_change_nothing(
    booked: BookedAgency, stripe: Stripe, attack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment_id, intent_id = await pay(stripe, booked)
    async with httpx.AsyncClient(base_url=stripe.url) as c:
        r = await c.post(
            f"/control/payment_intents/{intent_id}/complete",
            json={"outcome": "succeeded", "deliver": False},
        )
    body = json.dumps(r.json()["event"]).encode()
    # Clearly outside the 5-minute tolerance: the boundary itself is unit-tested with a fixed
    # clock (tests/unit/direct/test_stripe_signature.py); here a second passing between signing
    # and the server's check must not move the timestamp back inside it.
    now = int(time.time())
    headers = {
        "missing header": {},
        "forged signature": {"Stripe-Signature": signed("whsec_attacker", body)},
        "tampered body": {"Stripe-Signature": signed(WHSEC, body.replace(b"45000", b"45001"))},
        "stale timestamp": {"Stripe-Signature": signed(WHSEC, body, now - 3600)},
        "future timestamp": {"Stripe-Signature": signed(WHSEC, body, now + 3600)},
        "garbled header": {"Stripe-Signature": "t=,v1=;;"},
        "not configured": {"Stripe-Signature": signed(WHSEC, body)},
    }[attack]
    if attack == "not configured":
        monkeypatch.delenv("STRIPE_WEBHOOK_SECRET")
        reset_settings_cache()
    async with httpx.AsyncClient() as c:
        r = await c.post(
            stripe.webhook_url,
            content=body,
            headers={"Content-Type": "application/json", **headers},
        )
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "/problems/invalid-webhook"
    assert WHSEC not in r.text
    assert (await payment(payment_id)).status is PaymentStatus.PENDING
    assert await stripe_event_count() == 0
    assert stripe.outcomes == []


async def test_a_replayed_event_is_acknowledged_and_does_nothing(
    booked: BookedAgency, stripe: Stripe
) -> None:
    payment_id, intent_id = await pay(stripe, booked)
    async with httpx.AsyncClient(base_url=stripe.url) as c:
        first = (await c.post(f"/control/payment_intents/{intent_id}/complete", json={})).json()
        event_id = first["event"]["id"]
        before = await payment(payment_id)
        replay = (await c.post(f"/control/events/{event_id}/resend")).json()
    assert [d["status_code"] for d in replay["deliveries"]] == [200, 200]

    # The same event re-signed with a fresh timestamp is still the same event.
    body = json.dumps(first["event"]).encode()
    async with httpx.AsyncClient() as c:
        r = await c.post(
            stripe.webhook_url, content=body, headers={"Stripe-Signature": signed(WHSEC, body)}
        )
    assert r.status_code == 200
    assert r.json() == {"received": True, "event_id": event_id, "outcome": "duplicate"}

    after = await payment(payment_id)
    assert (after.status, after.updated_at) == (PaymentStatus.SUCCEEDED, before.updated_at)
    assert len(stripe.outcomes) == 1
    assert await stripe_event_count() == 1


async def test_events_we_do_not_act_on_are_acknowledged_and_recorded(
    booked: BookedAgency, stripe: Stripe
) -> None:
    unknown = stripe.fake.new_event(
        "payment_intent.succeeded", {"id": "pi_not_ours", "amount": 1, "currency": "eur"}
    )
    other = stripe.fake.new_event("charge.refunded", {"id": "ch_1"})
    for event in (unknown, other):
        assert (await stripe.fake.deliver(event)).status_code == 200
    async with system_transaction() as session:
        rows = (await session.execute(select(StripeEvent.id, StripeEvent.outcome))).all()
    assert sorted(rows) == sorted([(unknown.body["id"], "ignored"), (other.body["id"], "ignored")])
    assert stripe.outcomes == []


async def test_a_succeeded_event_for_another_amount_does_not_settle_the_payment(
    booked: BookedAgency, stripe: Stripe
) -> None:
    payment_id, intent_id = await pay(stripe, booked)
    forged = stripe.fake.new_event(
        "payment_intent.succeeded",
        {**stripe.fake.intents[intent_id], "amount": 100, "status": "succeeded"},
    )
    assert (await stripe.fake.deliver(forged)).status_code == 200
    assert (await payment(payment_id)).status is PaymentStatus.PENDING
    assert stripe.outcomes == []


# --- refunds ----------------------------------------------------------------------------------


async def test_refunds_are_issued_at_stripe_partially_then_fully_and_never_twice(
    booked: BookedAgency, stripe: Stripe
) -> None:
    payment_id, intent_id = await pay(stripe, booked)
    async with transaction(booked.agency_id) as session:
        with pytest.raises(Conflict, match="pending"):
            await refund_payment(session, stripe.provider, payment_id, Money(100, EUR))
    await stripe.fake.deliver(stripe.fake.settle(intent_id, "succeeded"))

    # A refund whose transaction rolls back is asked for again with the same key: one refund.
    class Rollback(Exception):
        pass

    async def refund_then_fail() -> None:
        async with transaction(booked.agency_id) as session:
            await refund_payment(session, stripe.provider, payment_id, Money(15000, EUR))
            raise Rollback

    with pytest.raises(Rollback):
        await refund_then_fail()
    assert (await payment(payment_id)).refunded_minor == 0
    async with transaction(booked.agency_id) as session:
        partial = await refund_payment(session, stripe.provider, payment_id, Money(15000, EUR))
    assert len(stripe.fake.refunds) == 1
    refund = next(iter(stripe.fake.refunds.values()))
    assert (refund["payment_intent"], refund["amount"], refund["id"]) == (
        intent_id,
        15000,
        partial.provider_ref,
    )
    assert partial.status is PaymentStatus.PARTIALLY_REFUNDED
    assert partial.settled

    async with transaction(booked.agency_id) as session:
        with pytest.raises(Unprocessable, match="between 1 and 30000"):
            await refund_payment(session, stripe.provider, payment_id, Money(30001, EUR))
    async with transaction(booked.agency_id) as session:
        rest = await refund_payment(session, stripe.provider, payment_id, Money(30000, EUR))
    assert rest.status is PaymentStatus.REFUNDED
    assert rest.total_refunded == Money(45000, EUR)
    assert sorted(r["amount"] for r in stripe.fake.refunds.values()) == [15000, 30000]
    row = await payment(payment_id)
    assert (row.status, row.refunded_minor) == (PaymentStatus.REFUNDED, 45000)
    async with transaction(booked.agency_id) as session:
        with pytest.raises(Conflict, match="refunded payment"):
            await refund_payment(session, stripe.provider, payment_id, Money(1, EUR))


# --- offline ----------------------------------------------------------------------------------


async def test_offline_payments_are_expected_then_marked_received_and_refunded_by_hand(
    settings: Settings, booked: BookedAgency
) -> None:
    offline = OfflineProvider()
    async with transaction(booked.agency_id) as session:
        with pytest.raises(MethodNotSupported):
            await start_payment(session, offline, request(booked, method=PaymentMethod.CARD))
    async with transaction(booked.agency_id) as session:
        started = await start_payment(
            session, offline, request(booked, method=PaymentMethod.BANK_TRANSFER)
        )
        again = await start_payment(
            session, offline, request(booked, method=PaymentMethod.BANK_TRANSFER)
        )
    assert again.payment_id == started.payment_id
    assert started.status is PaymentStatus.PENDING
    assert started.client == {
        "provider": "offline",
        "method": "bank_transfer",
        "amount_minor": 45000,
        "currency": EUR,
        "reference": booked.reference,
    }
    async with transaction(booked.agency_id) as session:
        outcome = await mark_offline_payment_received(session, started.payment_id)
    assert (outcome.kind, outcome.booking_id) == (OutcomeKind.SUCCEEDED, booked.booking_id)
    async with transaction(booked.agency_id) as session:
        with pytest.raises(Conflict, match="already succeeded"):
            await mark_offline_payment_received(session, started.payment_id)
    async with transaction(booked.agency_id) as session:
        refund = await refund_payment(session, offline, started.payment_id, Money(20000, EUR))
    assert refund.settled is False  # staff pay it back
    assert refund.status is PaymentStatus.PARTIALLY_REFUNDED
    # Another agency sees none of it.
    async with transaction(uuid.uuid4()) as session:
        assert (await session.execute(select(Payment))).scalars().all() == []


async def test_handling_an_event_outside_a_system_transaction_is_refused(
    booked: BookedAgency, stripe: Stripe
) -> None:
    event = StripeEventData("evt_tenant", "payment_intent.succeeded", {"id": "pi_x"})

    async def in_tenant_transaction() -> None:
        async with transaction(booked.agency_id) as session:
            await handle_stripe_event(session, event)

    with pytest.raises(RuntimeError, match="system_transaction"):
        await in_tenant_transaction()
    assert await stripe_event_count() == 0


async def test_a_payment_whose_webhook_is_lost_is_settled_by_asking_stripe(
    booked: BookedAgency, stripe: Stripe
) -> None:
    payment_id, intent_id = await pay(stripe, booked)
    async with transaction(booked.agency_id) as session:
        still = await refresh_stripe_payment(session, stripe.provider, payment_id)
    assert (still.kind, still.reason) == (
        OutcomeKind.IGNORED,
        "payment intent is requires_payment_method",
    )

    event = stripe.fake.settle(intent_id, "succeeded")  # the webhook never arrives
    async with transaction(booked.agency_id) as session:
        outcome = await refresh_stripe_payment(session, stripe.provider, payment_id)
    assert (outcome.kind, outcome.booking_id) == (OutcomeKind.SUCCEEDED, booked.booking_id)
    assert (await payment(payment_id)).status is PaymentStatus.SUCCEEDED

    # When the webhook does arrive after all, it changes nothing.
    assert (await stripe.fake.deliver(event)).status_code == 200
    assert stripe.outcomes == []
    async with system_transaction() as session:
        recorded = (await session.execute(select(StripeEvent.outcome))).scalar_one()
    assert recorded == "ignored"
