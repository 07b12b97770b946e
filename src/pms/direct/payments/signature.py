"""Stripe's webhook signature scheme: ``Stripe-Signature: t=<unix ts>,v1=<hex>[,v1=<hex>…]``
where each ``v1`` is HMAC-SHA256 of ``"<t>.<raw body>"`` keyed with the endpoint's signing
secret. Several ``v1`` entries appear while a secret is being rolled; one match is enough."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from pms.core.errors import DomainError

DEFAULT_TOLERANCE_SECONDS = 300


class InvalidWebhook(DomainError):
    status = 400
    code = "invalid-webhook"
    title = "Webhook rejected"


def compute_signature(secret: str, timestamp: int, payload: bytes) -> str:
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, payload: bytes, timestamp: int | None = None) -> str:
    """What Stripe sends (used by the fake Stripe server and by tests)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={compute_signature(secret, ts, payload)}"


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise InvalidWebhook("The Stripe-Signature header is malformed.")
        if key == "t":
            # ASCII digits of a sane length: int() of a 5,000-digit string raises ValueError.
            if (
                timestamp is not None
                or not (value.isascii() and value.isdigit())
                or len(value) > 12
            ):
                raise InvalidWebhook("The Stripe-Signature header has no valid timestamp.")
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
        # Other schemes (v0 test signatures) are ignored, as Stripe's own libraries do.
    if timestamp is None or not signatures:
        raise InvalidWebhook("The Stripe-Signature header lacks a timestamp or a v1 signature.")
    return timestamp, signatures


def verify_signature(
    payload: bytes,
    header: str | None,
    secret: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check the header against the raw body; return the signed timestamp or raise."""
    if not header:
        raise InvalidWebhook("The Stripe-Signature header is missing.")
    timestamp, signatures = _parse_header(header)
    expected = compute_signature(secret, timestamp, payload)
    # compare_digest on every candidate: the time taken does not reveal which one came close.
    matches = [hmac.compare_digest(expected.encode(), s.encode()) for s in signatures]
    if not any(matches):
        raise InvalidWebhook("No signature in the Stripe-Signature header matches the payload.")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise InvalidWebhook("The webhook's timestamp is outside the tolerance (replay?).")
    return timestamp


@dataclass(frozen=True, slots=True)
class StripeEventData:
    """A verified Stripe event: its id, type and ``data.object``."""

    id: str
    type: str
    object: dict[str, Any]
    created: int | None = None


def parse_event(payload: bytes) -> StripeEventData:
    try:
        body = json.loads(payload)
        event_id, event_type, obj = body["id"], body["type"], body["data"]["object"]
    except (ValueError, KeyError, TypeError):
        raise InvalidWebhook("The webhook body is not a Stripe event.") from None
    if not (isinstance(event_id, str) and isinstance(event_type, str) and isinstance(obj, dict)):
        raise InvalidWebhook("The webhook body is not a Stripe event.")
    if not event_id or len(event_id) > 255:
        raise InvalidWebhook("The webhook's event id is invalid.")
    created = body.get("created")
    return StripeEventData(
        id=event_id,
        type=event_type,
        object=obj,
        created=created if isinstance(created, int) else None,
    )


def verify_event(
    payload: bytes,
    header: str | None,
    secret: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> StripeEventData:
    """Verify first, parse second: nothing of an unverified body is ever looked at."""
    verify_signature(payload, header, secret, tolerance=tolerance, now=now)
    return parse_event(payload)
