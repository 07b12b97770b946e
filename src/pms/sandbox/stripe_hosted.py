"""The fake Stripe's hosted payment page: where the booking site sends a guest to pay a
PaymentIntent in development and tests, so card data never reaches the PMS.

``GET /pay/{intent}?client_secret=…&return_url=…`` shows the amount and a card form. Test cards
behave as Stripe documents them: ``4242 4242 4242 4242`` succeeds, ``4000 0000 0000 0002`` is
declined (the page says so and the guest may try another card), ``4000 0025 0000 3155`` asks for
a 3-D Secure step first (complete or fail it). A payment that goes through sends its webhook to
the PMS, then returns the guest to ``return_url`` with ``payment_intent`` and
``redirect_status=succeeded``, as Stripe's redirects do."""

from __future__ import annotations

import html
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, FastAPI, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pms.sandbox.stripe_fake import StripeFake, StripeFakeError, create_stripe_fake_app

DECLINED_CARDS = frozenset({"4000000000000002", "4000000000009995"})
THREE_D_SECURE_CARDS = frozenset({"4000002500003155", "4000000000003220"})

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f6f9fc;color:#1a1f36;margin:0}
main{max-width:26rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;
box-shadow:0 2px 8px rgba(0,0,0,.12)}
label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #6b7385;
border-radius:4px}
button{margin-top:1.2rem;width:100%;padding:.7rem;font-size:1rem;background:#3d2fbf;color:#fff;
border:0;border-radius:4px;cursor:pointer}
button.secondary{background:#fff;color:#3d2fbf;border:1px solid #3d2fbf}
[role=alert]{background:#fde8e8;color:#8a1020;padding:.7rem;border-radius:4px}
p.small{font-size:.85rem;color:#4f566b}
"""


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def _amount(intent: dict[str, Any]) -> str:
    minor = int(intent["amount"])
    return f"{minor // 100}.{minor % 100:02d} {str(intent['currency']).upper()}"


def _checked_return_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StripeFakeError(400, "invalid_request_error", "return_url must be an http(s) URL.")
    return url


def _back(return_url: str, intent: dict[str, Any], status: str) -> str:
    sep = "&" if "?" in return_url else "?"
    query = urlencode(
        {
            "payment_intent": intent["id"],
            "payment_intent_client_secret": intent["client_secret"],
            "redirect_status": status,
        }
    )
    return f"{return_url}{sep}{query}"


def hosted_router(stripe: StripeFake) -> APIRouter:
    router = APIRouter(prefix="/pay", tags=["hosted payment page"])

    def checked(intent_id: str, client_secret: str) -> dict[str, Any]:
        intent = stripe.intent(intent_id)
        if client_secret != intent["client_secret"]:
            raise StripeFakeError(
                404, "invalid_request_error", f"No such payment_intent: '{intent_id}'"
            )
        return intent

    def form(intent: dict[str, Any], return_url: str, error: str | None = None) -> HTMLResponse:
        alert = f'<p role="alert">{html.escape(error)}</p>' if error else ""
        hidden = (
            f'<input type="hidden" name="client_secret" '
            f'value="{html.escape(intent["client_secret"])}">'
            f'<input type="hidden" name="return_url" value="{html.escape(return_url)}">'
        )
        cancel = html.escape(_back(return_url, intent, "canceled"))
        return _page(
            "Pay — Stripe (test mode)",
            f"<h1>Pay {html.escape(_amount(intent))}</h1>"
            f'<p class="small">Test mode: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is '
            f"declined, 4000 0025 0000 3155 asks for 3-D Secure.</p>{alert}"
            f'<form method="post" action="{html.escape(intent["id"])}">{hidden}'
            '<label for="card">Card number</label>'
            '<input id="card" name="card" inputmode="numeric" autocomplete="cc-number" required>'
            '<label for="exp">Expiry (MM/YY)</label>'
            '<input id="exp" name="exp" autocomplete="cc-exp" required>'
            '<label for="cvc">CVC</label>'
            '<input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" required>'
            f"<button type=submit>Pay {html.escape(_amount(intent))}</button></form>"
            f'<p><a href="{cancel}">Back to the booking site</a></p>',
        )

    async def settle(intent: dict[str, Any], outcome: str, return_url: str) -> Response:
        event = stripe.settle(intent["id"], "succeeded" if outcome == "succeeded" else "failed")
        await stripe.deliver(event)
        if outcome == "succeeded":
            return RedirectResponse(_back(return_url, intent, "succeeded"), status_code=303)
        return form(intent, return_url, "Your card was declined. Try another card.")

    @router.get("/{intent_id}", response_class=HTMLResponse)
    async def page(
        intent_id: str,
        client_secret: Annotated[str, Query()],
        return_url: Annotated[str, Query()],
    ) -> Response:
        intent = checked(intent_id, client_secret)
        url = _checked_return_url(return_url)
        if intent["status"] in ("succeeded", "requires_capture"):
            return RedirectResponse(_back(url, intent, "succeeded"), status_code=303)
        return form(intent, url)

    @router.post("/{intent_id}", response_class=HTMLResponse)
    async def pay(
        intent_id: str,
        client_secret: Annotated[str, Form()],
        return_url: Annotated[str, Form()],
        card: Annotated[str, Form()],
    ) -> Response:
        intent = checked(intent_id, client_secret)
        url = _checked_return_url(return_url)
        number = "".join(ch for ch in card if ch.isdigit())
        if not 12 <= len(number) <= 19:
            return form(intent, url, "Your card number is incomplete.")
        if intent["status"] != "requires_payment_method":
            return RedirectResponse(_back(url, intent, "succeeded"), status_code=303)
        if number in THREE_D_SECURE_CARDS:
            fields = (
                f'<input type="hidden" name="client_secret" '
                f'value="{html.escape(client_secret)}">'
                f'<input type="hidden" name="return_url" value="{html.escape(url)}">'
            )
            action = f"{html.escape(intent_id)}/3ds"
            return _page(
                "3-D Secure — Stripe (test mode)",
                "<h1>3-D Secure authentication</h1>"
                f"<p>Your bank asks you to confirm the payment of {html.escape(_amount(intent))}."
                f'</p><form method="post" action="{action}">{fields}'
                '<button name="outcome" value="succeeded">Complete authentication</button>'
                '<button class="secondary" name="outcome" value="failed">Fail authentication'
                "</button></form>",
            )
        return await settle(intent, "failed" if number in DECLINED_CARDS else "succeeded", url)

    @router.post("/{intent_id}/3ds", response_class=HTMLResponse)
    async def three_d_secure(
        intent_id: str,
        client_secret: Annotated[str, Form()],
        return_url: Annotated[str, Form()],
        outcome: Annotated[str, Form()],
    ) -> Response:
        intent = checked(intent_id, client_secret)
        url = _checked_return_url(return_url)
        if intent["status"] != "requires_payment_method":
            return RedirectResponse(_back(url, intent, "succeeded"), status_code=303)
        return await settle(intent, outcome, url)

    return router


def create_stripe_app(stripe: StripeFake | None = None) -> FastAPI:
    """The fake Stripe's API with its hosted payment page (what the sandbox mounts)."""
    fake = stripe or StripeFake()
    app = create_stripe_fake_app(fake)
    app.include_router(hosted_router(fake))
    return app
