"""The fake Stripe speaks Stripe's shapes (form bodies, bearer keys, idempotency, error JSON),
and the Stripe client retries only what is safe to retry."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from pms.direct.payments import PaymentProviderError, StripeClient
from pms.sandbox.stripe_fake import (
    FakeStripeConfig,
    StripeFake,
    create_stripe_fake_app,
    dev_environment,
    parse_form,
)
from pms.settings import Settings

KEY = "sk_test_unit_fake_key"


@pytest.fixture
async def stripe() -> AsyncIterator[httpx.AsyncClient]:
    fake = StripeFake()
    fake.config.api_key = KEY
    transport = httpx.ASGITransport(app=create_stripe_fake_app(fake))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://stripe.test",
        headers={"Authorization": f"Bearer {KEY}"},
    ) as client:
        # Warm-up outside the test body: the first request imports anyio's backend, which
        # would count as the test blocking its event loop.
        await client.get("/v1/payment_intents/pi_warmup")
        yield client


def test_nested_form_fields() -> None:
    assert parse_form([("amount", "5"), ("metadata[a]", "1"), ("metadata[b]", "2")]) == {
        "amount": "5",
        "metadata": {"a": "1", "b": "2"},
    }


async def test_create_with_an_idempotency_key_replays_the_first_answer(
    stripe: httpx.AsyncClient,
) -> None:
    data = {"amount": "1000", "currency": "eur", "metadata[booking_id]": "b1"}
    first = await stripe.post("/v1/payment_intents", data=data, headers={"Idempotency-Key": "k"})
    assert first.status_code == 200
    intent = first.json()
    assert intent["object"] == "payment_intent"
    assert intent["status"] == "requires_payment_method"
    assert intent["metadata"] == {"booking_id": "b1"}
    again = await stripe.post("/v1/payment_intents", data=data, headers={"Idempotency-Key": "k"})
    assert again.json() == intent
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await stripe.post(
        "/v1/payment_intents", data={**data, "amount": "2000"}, headers={"Idempotency-Key": "k"}
    )
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"
    fetched = await stripe.get(f"/v1/payment_intents/{intent['id']}")
    assert fetched.json() == intent


@pytest.mark.parametrize(
    ("data", "code", "param"),
    [
        ({"currency": "eur"}, "parameter_missing", "amount"),
        ({"amount": "10"}, "parameter_missing", "currency"),
        ({"amount": "-5", "currency": "eur"}, "parameter_invalid", "amount"),
        ({"amount": "10", "currency": "euro"}, "parameter_invalid", "currency"),
    ],
)
async def test_invalid_parameters_are_stripe_errors(
    stripe: httpx.AsyncClient, data: dict[str, str], code: str, param: str
) -> None:
    r = await stripe.post("/v1/payment_intents", data=data)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["param"] == param
    assert r.json()["error"]["type"] == "invalid_request_error"


async def test_keys_are_checked(stripe: httpx.AsyncClient) -> None:
    r = await stripe.get("/v1/payment_intents/pi_x", headers={"Authorization": "Bearer sk_test_no"})
    assert r.status_code == 401
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert "sk_test_no" not in r.text  # keys are masked, as Stripe does
    r = await stripe.get("/v1/payment_intents/pi_x", headers={"Authorization": ""})
    assert r.status_code == 401


async def test_refunds_need_a_succeeded_payment_and_stop_at_the_amount(
    stripe: httpx.AsyncClient,
) -> None:
    intent = (
        await stripe.post("/v1/payment_intents", data={"amount": "1000", "currency": "eur"})
    ).json()
    r = await stripe.post("/v1/refunds", data={"payment_intent": intent["id"]})
    assert r.json()["error"]["code"] == "charge_not_refundable"
    done = await stripe.post(
        f"/control/payment_intents/{intent['id']}/complete", json={"deliver": False}
    )
    assert done.json()["event"]["type"] == "payment_intent.succeeded"
    assert done.json()["event"]["data"]["object"]["status"] == "succeeded"
    r = await stripe.post("/v1/refunds", data={"payment_intent": intent["id"], "amount": "1001"})
    assert r.json()["error"]["code"] == "amount_too_large"
    r = await stripe.post("/v1/refunds", data={"payment_intent": intent["id"], "amount": "400"})
    assert (r.json()["object"], r.json()["amount"], r.json()["status"]) == (
        "refund",
        400,
        "succeeded",
    )
    r = await stripe.post("/v1/refunds", data={"payment_intent": intent["id"]})
    assert r.json()["amount"] == 600
    r = await stripe.post("/v1/refunds", data={"payment_intent": intent["id"]})
    assert r.json()["error"]["code"] == "charge_already_refunded"


async def test_manual_capture_authorises_then_captures_or_cancels_like_stripe(
    stripe: httpx.AsyncClient,
) -> None:
    data = {"amount": "1000", "currency": "eur", "capture_method": "manual"}
    intent = (await stripe.post("/v1/payment_intents", data=data)).json()
    assert (intent["capture_method"], intent["amount_capturable"]) == ("manual", 0)
    # Nothing to capture before the card is authorised.
    r = await stripe.post(f"/v1/payment_intents/{intent['id']}/capture")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "payment_intent_unexpected_state"
    done = await stripe.post(
        f"/control/payment_intents/{intent['id']}/complete", json={"deliver": False}
    )
    event = done.json()["event"]
    assert event["type"] == "payment_intent.amount_capturable_updated"
    authorised = event["data"]["object"]
    assert (authorised["status"], authorised["amount_capturable"]) == ("requires_capture", 1000)
    assert authorised["amount_received"] == 0
    # An authorisation is not refundable: nothing was taken.
    r = await stripe.post("/v1/refunds", data={"payment_intent": intent["id"]})
    assert r.json()["error"]["code"] == "charge_not_refundable"
    r = await stripe.post(
        f"/v1/payment_intents/{intent['id']}/capture",
        data={"amount_to_capture": "1001"},
    )
    assert r.json()["error"]["code"] == "amount_too_large"
    r = await stripe.post(
        f"/v1/payment_intents/{intent['id']}/capture", headers={"Idempotency-Key": "cap-1"}
    )
    assert r.status_code == 200, r.text
    captured = r.json()
    assert (captured["status"], captured["amount_received"], captured["amount_capturable"]) == (
        "succeeded",
        1000,
        0,
    )
    again = await stripe.post(
        f"/v1/payment_intents/{intent['id']}/capture", headers={"Idempotency-Key": "cap-1"}
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == captured
    r = await stripe.post(f"/v1/payment_intents/{intent['id']}/cancel")
    assert r.json()["error"]["code"] == "payment_intent_unexpected_state"
    events = (await stripe.get("/control/events")).json()
    assert [e["event"]["type"] for e in events][-1] == "payment_intent.succeeded"

    other = (await stripe.post("/v1/payment_intents", data=data)).json()
    await stripe.post(f"/control/payment_intents/{other['id']}/complete", json={"deliver": False})
    r = await stripe.post(
        f"/v1/payment_intents/{other['id']}/cancel", data={"cancellation_reason": "automatic"}
    )
    assert r.json()["error"]["code"] == "parameter_invalid"  # only Stripe lapses authorisations
    r = await stripe.post(
        f"/v1/payment_intents/{other['id']}/cancel", data={"cancellation_reason": "abandoned"}
    )
    released = r.json()
    assert (released["status"], released["cancellation_reason"]) == ("canceled", "abandoned")
    assert released["amount_capturable"] == 0
    assert isinstance(released["canceled_at"], int)
    r = await stripe.post(f"/v1/payment_intents/{other['id']}/capture")
    assert r.json()["error"]["code"] == "payment_intent_unexpected_state"
    events = (await stripe.get("/control/events")).json()
    assert [e["event"]["type"] for e in events][-1] == "payment_intent.canceled"


async def test_the_client_works_against_the_fake_mounted_under_a_prefix() -> None:
    fake = StripeFake()
    fake.config.api_key = KEY
    sandbox = FastAPI()
    sandbox.mount("/stripe", create_stripe_fake_app(fake))
    client = StripeClient(
        "http://sandbox.test/stripe", SecretStr(KEY), transport=httpx.ASGITransport(app=sandbox)
    )
    intent = await client.create_payment_intent(
        amount_minor=500, currency="EUR", metadata={"booking_id": "b1"}, idempotency_key="k"
    )
    assert fake.intents[intent["id"]]["metadata"] == {"booking_id": "b1"}
    assert (await client.retrieve_payment_intent(intent["id"]))["amount"] == 500


async def test_the_client_retries_server_errors_with_the_same_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) < 3:
            return httpx.Response(
                503 if len(seen) == 1 else 500, json={"error": {"type": "api_error"}}
            )
        return httpx.Response(200, json={"id": "re_1", "object": "refund", "status": "succeeded"})

    client = StripeClient(
        "https://api.stripe.test", SecretStr(KEY), transport=httpx.MockTransport(answer)
    )
    refund = await client.create_refund(
        payment_intent="pi_1", amount_minor=100, idempotency_key="rk"
    )
    assert refund["id"] == "re_1"
    assert [r.headers["Idempotency-Key"] for r in seen] == ["rk", "rk", "rk"]
    assert seen[0].headers["Authorization"] == f"Bearer {KEY}"
    assert seen[0].headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert seen[0].content == b"payment_intent=pi_1&amount=100"


async def test_the_client_does_not_retry_a_refusal() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            402,
            json={"error": {"type": "card_error", "code": "card_declined", "message": "Declined."}},
        )

    client = StripeClient(
        "https://api.stripe.test", SecretStr(KEY), transport=httpx.MockTransport(answer)
    )
    with pytest.raises(PaymentProviderError, match="Declined") as exc:
        await client.create_refund(payment_intent="pi_1", amount_minor=100, idempotency_key="rk")
    assert exc.value.extra["provider_code"] == "card_declined"
    assert len(seen) == 1


def test_dev_settings_and_the_fake_agree_on_keys_and_urls() -> None:
    env = dev_environment("http://127.0.0.1:8100/")
    settings = Settings(
        stripe_api_base=env["STRIPE_API_BASE"],
        stripe_secret_key=SecretStr(env["STRIPE_SECRET_KEY"]),
        stripe_webhook_secret=SecretStr(env["STRIPE_WEBHOOK_SECRET"]),
        public_base_url="http://127.0.0.1:8000",
    )
    config = FakeStripeConfig.from_settings(settings)
    assert settings.stripe_api_base == "http://127.0.0.1:8100/stripe"
    assert config.api_key == env["STRIPE_SECRET_KEY"]
    assert config.webhook_secret == env["STRIPE_WEBHOOK_SECRET"]
    assert config.webhook_url == "http://127.0.0.1:8000/api/v1/webhooks/stripe"
