"""The fake Stripe's hosted payment page: test cards succeed, are declined or ask for 3-D Secure
as Stripe's do; the guest returns to the booking site only after a payment went through."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from pms.sandbox.stripe_fake import StripeFake
from pms.sandbox.stripe_hosted import create_stripe_app

KEY = "sk_test_unit_fake_key"
BACK = "http://site.test/demo/book/done?b=1"


@pytest.fixture
async def stripe() -> AsyncIterator[tuple[StripeFake, httpx.AsyncClient]]:
    fake = StripeFake()
    fake.config.api_key = KEY
    transport = httpx.ASGITransport(app=create_stripe_app(fake))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://stripe.test",
        headers={"Authorization": f"Bearer {KEY}"},
    ) as client:
        await client.get("/v1/payment_intents/pi_warmup")
        yield fake, client


async def _intent(client: httpx.AsyncClient, capture: str = "automatic") -> dict[str, str]:
    r = await client.post(
        "/v1/payment_intents",
        data={"amount": "12345", "currency": "eur", "capture_method": capture},
    )
    assert r.status_code == 200
    return dict(r.json())


def _form(intent: dict[str, str], **extra: str) -> dict[str, str]:
    return {"client_secret": intent["client_secret"], "return_url": BACK, **extra}


async def test_a_good_card_pays_and_returns_to_the_site(
    stripe: tuple[StripeFake, httpx.AsyncClient],
) -> None:
    fake, client = stripe
    intent = await _intent(client)
    page = await client.get(
        f"/pay/{intent['id']}",
        params={"client_secret": intent["client_secret"], "return_url": BACK},
    )
    assert page.status_code == 200
    assert "123.45 EUR" in page.text
    assert 'for="card"' in page.text
    r = await client.post(f"/pay/{intent['id']}", data=_form(intent, card="4242 4242 4242 4242"))
    assert r.status_code == 303
    back = urlsplit(r.headers["location"])
    assert back.path == "/demo/book/done"
    query = parse_qs(back.query)
    assert query["redirect_status"] == ["succeeded"]
    assert query["payment_intent"] == [intent["id"]]
    assert query["b"] == ["1"]
    assert fake.intents[intent["id"]]["status"] == "succeeded"
    assert [e.body["type"] for e in fake.events.values()] == ["payment_intent.succeeded"]


async def test_a_declined_card_stays_on_the_page_and_may_retry(
    stripe: tuple[StripeFake, httpx.AsyncClient],
) -> None:
    fake, client = stripe
    intent = await _intent(client)
    r = await client.post(f"/pay/{intent['id']}", data=_form(intent, card="4000000000000002"))
    assert r.status_code == 200
    assert "Your card was declined" in r.text
    assert fake.intents[intent["id"]]["status"] == "requires_payment_method"
    r = await client.post(f"/pay/{intent['id']}", data=_form(intent, card="123"))
    assert "incomplete" in r.text
    r = await client.post(f"/pay/{intent['id']}", data=_form(intent, card="4242424242424242"))
    assert r.status_code == 303
    assert [e.body["type"] for e in fake.events.values()] == [
        "payment_intent.payment_failed",
        "payment_intent.succeeded",
    ]


async def test_three_d_secure_asks_first_and_can_fail(
    stripe: tuple[StripeFake, httpx.AsyncClient],
) -> None:
    fake, client = stripe
    intent = await _intent(client, capture="manual")
    r = await client.post(f"/pay/{intent['id']}", data=_form(intent, card="4000002500003155"))
    assert r.status_code == 200
    assert "3-D Secure" in r.text
    assert not fake.events
    r = await client.post(f"/pay/{intent['id']}/3ds", data=_form(intent, outcome="failed"))
    assert "declined" in r.text
    r = await client.post(f"/pay/{intent['id']}", data=_form(intent, card="4000002500003155"))
    r = await client.post(f"/pay/{intent['id']}/3ds", data=_form(intent, outcome="succeeded"))
    assert r.status_code == 303
    assert fake.intents[intent["id"]]["status"] == "requires_capture"


async def test_the_page_needs_the_client_secret_and_a_web_return_url(
    stripe: tuple[StripeFake, httpx.AsyncClient],
) -> None:
    _, client = stripe
    intent = await _intent(client)
    r = await client.get(
        f"/pay/{intent['id']}", params={"client_secret": "pi_wrong", "return_url": BACK}
    )
    assert r.status_code == 404
    r = await client.get(
        f"/pay/{intent['id']}",
        params={"client_secret": intent["client_secret"], "return_url": "javascript:alert(1)"},
    )
    assert r.status_code == 400
    r = await client.post(f"/pay/{intent['id']}", data={"card": "4242424242424242"})
    assert r.status_code == 422
