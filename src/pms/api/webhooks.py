"""Inbound payment webhooks: verify the signature, apply the event once, answer at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel

from pms.api.idempotency import IdempotentRoute
from pms.direct.payments import InvalidWebhook, OutcomeKind, receive_stripe_webhook

router = APIRouter(route_class=IdempotentRoute, prefix="/webhooks", tags=["webhooks"])

# Stripe's events are a few kilobytes; anything far larger is not from Stripe.
_MAX_BODY = 512 * 1024


class WebhookAck(BaseModel):
    received: bool
    event_id: str
    outcome: OutcomeKind


@router.post(
    "/stripe",
    summary="Receive a Stripe event (payment_intent.succeeded, .payment_failed, "
    ".amount_capturable_updated, .canceled)",
    response_model=WebhookAck,
    responses={
        400: {
            "description": "Missing, malformed or wrong Stripe-Signature, a timestamp outside "
            "the tolerance, or a body that is not a Stripe event. Nothing was changed."
        }
    },
)
async def stripe_webhook(
    request: Request,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> WebhookAck:
    """Verified with the endpoint's signing secret (`STRIPE_WEBHOOK_SECRET`) over the raw body.
    An event delivered again (same id) is acknowledged with outcome `duplicate` and changes
    nothing, so Stripe's retries are harmless."""
    payload = await request.body()
    if len(payload) > _MAX_BODY:
        raise InvalidWebhook("The webhook body is too large.")
    headers = {"Stripe-Signature": stripe_signature} if stripe_signature is not None else {}
    outcome = await receive_stripe_webhook(payload, headers)
    return WebhookAck(received=True, event_id=outcome.event_id, outcome=outcome.kind)
