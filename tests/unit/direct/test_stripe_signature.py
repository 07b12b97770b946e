"""Stripe-Signature verification: Stripe's scheme exactly, with timestamp tolerance."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time

import pytest

from pms.direct.payments.signature import (
    InvalidWebhook,
    parse_event,
    signature_header,
    verify_event,
    verify_signature,
)

SECRET = "whsec_test_secret"
BODY = json.dumps(
    {"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1"}}}
).encode()
NOW = 1_800_000_000


def stripe_v1(secret: str, t: int, body: bytes) -> str:
    # Spelled out from Stripe's documentation, independent of the code under test.
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def test_a_correct_header_verifies_and_returns_the_timestamp() -> None:
    header = f"t={NOW},v1={stripe_v1(SECRET, NOW, BODY)}"
    assert verify_signature(BODY, header, SECRET, now=NOW) == NOW
    assert signature_header(SECRET, BODY, NOW) == header


def test_one_matching_v1_among_several_is_enough_and_other_schemes_are_ignored() -> None:
    good = stripe_v1(SECRET, NOW, BODY)
    header = f"t={NOW},v1={'0' * 64},v0=abc,v1={good}"
    assert verify_signature(BODY, header, SECRET, now=NOW) == NOW


def test_the_event_is_parsed_only_after_verification() -> None:
    event = verify_event(BODY, signature_header(SECRET, BODY, NOW), SECRET, now=NOW + 10)
    assert (event.id, event.type, event.object) == (
        "evt_1",
        "payment_intent.succeeded",
        {"id": "pi_1"},
    )


# Each refusal's whole message, by a word of it.
REFUSALS = {
    "missing": "The Stripe-Signature header is missing.",
    "malformed": "The Stripe-Signature header is malformed.",
    "lacks": "The Stripe-Signature header lacks a timestamp or a v1 signature.",
    "timestamp": "The Stripe-Signature header has no valid timestamp.",
    "matches": "No signature in the Stripe-Signature header matches the payload.",
    "tolerance": "The webhook's timestamp is outside the tolerance (replay?).",
}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing"),
        ("", "missing"),
        ("garbage", "malformed"),
        (f"t={NOW}", "lacks"),
        (f"v1={stripe_v1(SECRET, NOW, BODY)}", "lacks"),
        (f"t=abc,v1={stripe_v1(SECRET, NOW, BODY)}", "timestamp"),
        (f"t={'9' * 5000},v1={stripe_v1(SECRET, NOW, BODY)}", "timestamp"),
        (f"t=\u0663\u0663,v1={stripe_v1(SECRET, NOW, BODY)}", "timestamp"),
        ("t=1,v1=\u00e9\u00e9", "matches"),
        (f"t={NOW},t={NOW},v1={stripe_v1(SECRET, NOW, BODY)}", "timestamp"),
        (f"t={NOW}=1,v1={stripe_v1(SECRET, NOW, BODY)}", "timestamp"),
        (f"t=1{'0' * 12},v1={stripe_v1(SECRET, 10**12, BODY)}", "timestamp"),
        (f"t={NOW},v1={stripe_v1('whsec_other', NOW, BODY)}", "matches"),
        (f"t={NOW + 1},v1={stripe_v1(SECRET, NOW, BODY)}", "matches"),
        (f"t={NOW},v1={stripe_v1(SECRET, NOW, BODY).upper()}", "matches"),
    ],
)
def test_bad_headers_are_refused(header: str | None, message: str) -> None:
    with pytest.raises(InvalidWebhook, match=f"^{re.escape(REFUSALS[message])}$") as exc:
        verify_signature(BODY, header, SECRET, now=NOW)
    assert exc.value.status == 400


def test_a_tampered_body_is_refused() -> None:
    header = signature_header(SECRET, BODY, NOW)
    with pytest.raises(InvalidWebhook, match="matches"):
        verify_signature(BODY.replace(b"pi_1", b"pi_2"), header, SECRET, now=NOW)


@pytest.mark.parametrize("offset", [301, -301, 86400])
def test_timestamps_outside_the_tolerance_are_refused(offset: int) -> None:
    header = signature_header(SECRET, BODY, NOW)
    with pytest.raises(InvalidWebhook, match=f"^{re.escape(REFUSALS['tolerance'])}$"):
        verify_signature(BODY, header, SECRET, now=NOW + offset)
    assert verify_signature(BODY, header, SECRET, now=NOW + offset, tolerance=abs(offset) + 1)


def test_within_the_tolerance_is_accepted() -> None:
    header = signature_header(SECRET, BODY, NOW)
    assert verify_signature(BODY, header, SECRET, now=NOW + 300) == NOW


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"id": "evt"}', b'{"id": 1, "type": "x", "data": {"object": {}}}'],
)
def test_a_signed_body_that_is_not_an_event_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidWebhook, match="not a Stripe event"):
        parse_event(body)


def event_body(**fields: object) -> bytes:
    return json.dumps({"id": "evt_1", "type": "t", "data": {"object": {}}, **fields}).encode()


@pytest.mark.parametrize(
    "body",
    [
        event_body(type=1),
        event_body(data={"object": []}),
        event_body(data={"object": "pi_1"}),
        event_body(data={}),
        json.dumps({"type": "t", "data": {"object": {}}}).encode(),
        json.dumps({"id": "evt_1", "data": {"object": {}}}).encode(),
    ],
)
def test_a_body_without_a_string_id_and_type_and_an_object_is_not_an_event(body: bytes) -> None:
    with pytest.raises(InvalidWebhook, match=r"^The webhook body is not a Stripe event\.$"):
        parse_event(body)


@pytest.mark.parametrize("event_id", ["", "e" * 256])
def test_an_empty_or_overlong_event_id_is_refused(event_id: str) -> None:
    with pytest.raises(InvalidWebhook, match=r"^The webhook's event id is invalid\.$") as exc:
        parse_event(event_body(id=event_id))
    assert exc.value.status == 400


def test_an_event_keeps_its_id_type_object_and_creation_time() -> None:
    event = parse_event(event_body(id="e" * 255, type="charge.refunded", created=NOW))
    assert (event.id, event.type, event.object, event.created) == (
        "e" * 255,
        "charge.refunded",
        {},
        NOW,
    )
    assert parse_event(event_body(created="yesterday")).created is None
    assert parse_event(event_body()).created is None


def test_verify_event_applies_the_tolerance_it_is_given() -> None:
    header = signature_header(SECRET, BODY, NOW)
    with pytest.raises(InvalidWebhook, match="tolerance"):
        verify_event(BODY, header, SECRET, now=NOW + 400)
    assert verify_event(BODY, header, SECRET, tolerance=500, now=NOW + 400).id == "evt_1"
    with pytest.raises(InvalidWebhook, match="matches"):
        verify_event(BODY, header, "whsec_other", now=NOW)


def test_a_twelve_digit_timestamp_is_still_read() -> None:
    t = 10**12 - 1
    assert verify_signature(BODY, f"t={t},v1={stripe_v1(SECRET, t, BODY)}", SECRET, now=t) == t


def test_without_a_time_given_the_clock_is_used() -> None:
    header = signature_header(SECRET, BODY)  # signed now
    signed = verify_signature(BODY, header, SECRET)  # checked against now
    assert abs(signed - time.time()) < 60
    old = signature_header(SECRET, BODY, 1_000_000_000)  # signed in 2001
    with pytest.raises(InvalidWebhook, match="tolerance"):
        verify_signature(BODY, old, SECRET)
