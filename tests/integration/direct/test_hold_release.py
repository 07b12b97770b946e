"""A guest releases a hold (`DELETE /public/{agency}/holds/{token}`): the hold is cancelled at
once through the status table, the nights are offered again with the usual events, a pending
card payment is cancelled at Stripe; releasing again answers the same; unknown, foreign,
expired and already-booked holds are clear 4xx problems."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import func, select, update

from pms.core.tokens import token_hash
from pms.db import transaction
from pms.models.booking import Booking
from pms.models.outbox import OutboxEvent
from pms.models.payment import Payment
from tests.integration.direct.engine import GUEST, engine_agency, search_params, stay
from tests.integration.direct.stripe_env import Env, checkout_by_card, link, status_of


async def hold(env: Env, start: int, end: int) -> str:
    r = await env.http.post(env.e.url("/holds"), json=stay(env.e, start, end))
    assert r.status_code == 201, r.text
    return str(r.json()["hold_token"])


async def release(env: Env, token: str, slug: str | None = None) -> httpx.Response:
    return await env.http.delete(f"/api/v1/public/{slug or env.e.slug}/holds/{token}")


async def the_hold(env: Env, token: str) -> Booking:
    async with transaction(uuid.UUID(env.e.agency.id)) as session:
        return (
            await session.execute(
                select(Booking).where(Booking.hold_token_hash == token_hash(token))
            )
        ).scalar_one()


async def events_of(env: Env, booking_id: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
    async with transaction(uuid.UUID(env.e.agency.id)) as session:
        rows = await session.execute(
            select(OutboxEvent.event_type, OutboxEvent.payload)
            .where(OutboxEvent.aggregate_id == str(booking_id))
            .order_by(OutboxEvent.id)
        )
        return [(t, p) for t, p in rows.all()]


async def availability_events(env: Env) -> int:
    async with transaction(uuid.UUID(env.e.agency.id)) as session:
        return int(
            (
                await session.execute(
                    select(func.count())
                    .select_from(OutboxEvent)
                    .where(OutboxEvent.event_type == "availability.changed")
                )
            ).scalar_one()
        )


def assert_problem(r: httpx.Response, status: int, type_: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == type_


async def test_releasing_a_hold_frees_the_nights_at_once_and_twice_is_the_same(env: Env) -> None:
    token = await hold(env, 10, 13)
    assert (await env.http.get(env.e.url("/search"), params=search_params(10, 13))).json()[
        "count"
    ] == 0
    before = await availability_events(env)

    r = await release(env, token)
    assert r.status_code == 204, r.text
    assert r.content == b""
    released = await the_hold(env, token)
    assert released.status.value == "cancelled"
    assert released.cancelled_at is not None
    assert released.hold_expires_at is None
    # The same events as any other status change that frees nights.
    events = await events_of(env, released.id)
    assert events[-1][0] == "booking.status_changed"
    assert (events[-1][1]["from_status"], events[-1][1]["status"]) == ("hold", "cancelled")
    assert await availability_events(env) == before + 1
    # Offered and holdable again, at once.
    assert (await env.http.get(env.e.url("/search"), params=search_params(10, 13))).json()[
        "count"
    ] == 1
    again = await hold(env, 10, 13)

    # Releasing again: the same answer, nothing more happens.
    r = await release(env, token)
    assert r.status_code == 204, r.text
    assert await events_of(env, released.id) == events
    # The released token cannot be booked.
    r = await env.http.post(
        env.e.url("/bookings"),
        json={"hold_token": token, "guest": GUEST, "accepted_terms": True},
    )
    assert_problem(r, 409, "/problems/hold-expired")
    assert (await release(env, again)).status_code == 204


async def test_releasing_a_hold_in_card_checkout_cancels_the_payment_intent(env: Env) -> None:
    r = await env.http.post(env.e.url("/holds"), json=stay(env.e, 20, 22))
    token = r.json()["hold_token"]
    r = await env.http.post(
        env.e.url("/bookings"),
        json={
            "hold_token": token,
            "guest": GUEST,
            "accepted_terms": True,
            "payment_method": "stripe",
        },
    )
    assert r.status_code == 201, r.text
    booking = r.json()
    intent_id = booking["payment"]["client"]["payment_intent_id"]

    assert (await release(env, token)).status_code == 204
    intent = env.fake.intents[intent_id]
    assert (intent["status"], intent["cancellation_reason"]) == (
        "canceled",
        "requested_by_customer",
    )
    async with transaction(uuid.UUID(env.e.agency.id)) as session:
        payment = (
            await session.execute(select(Payment).where(Payment.provider_ref == intent_id))
        ).scalar_one()
    assert payment.status.value == "canceled"
    assert await status_of(env, booking) == "cancelled"
    # Twice: Stripe is not asked again.
    assert (await release(env, token)).status_code == 204
    cancels = [r for r in env.fake.requests if r["endpoint"].endswith(f"{intent_id}/cancel")]
    assert len(cancels) == 1
    # The guest's card can no longer be charged for it.
    r = await env.http.post(
        f"{env.stripe_url}/control/payment_intents/{intent_id}/complete",
        json={"outcome": "succeeded"},
    )
    assert r.status_code == 400


async def test_another_agencys_or_an_unknown_token_is_404(env: Env) -> None:
    token = await hold(env, 30, 32)
    other = await engine_agency(env.http, "Other Stays")
    assert_problem(await release(env, token, other.slug), 404, "/problems/not-found")
    assert_problem(await release(env, "x" * 32), 404, "/problems/not-found")
    assert_problem(
        await env.http.delete(f"/api/v1/public/no-such-agency/holds/{token}"),
        404,
        "/problems/not-found",
    )
    assert (await the_hold(env, token)).status.value == "hold"  # untouched


async def test_a_booked_hold_is_409_and_stays_booked(env: Env) -> None:
    token = await hold(env, 40, 42)
    r = await env.http.post(
        env.e.url("/bookings"), json={"hold_token": token, "guest": GUEST, "accepted_terms": True}
    )
    assert r.status_code == 201, r.text
    booking = r.json()
    assert booking["status"] == "confirmed"
    for _ in range(2):
        assert_problem(await release(env, token), 409, "/problems/hold-used")
    assert await status_of(env, booking) == "confirmed"

    # A hold whose checkout became a request to book is used as well.
    r = await env.http.patch(
        f"/api/v1/properties/{env.e.property_id}",
        json={"instant_book": False},
        headers=env.e.agency.auth(),
    )
    assert r.status_code == 200, r.text
    token = await hold(env, 50, 52)
    r = await env.http.post(
        env.e.url("/bookings"), json={"hold_token": token, "guest": GUEST, "accepted_terms": True}
    )
    assert r.json()["status"] == "requested"
    assert_problem(await release(env, token), 409, "/problems/hold-used")
    assert (await env.http.get(link(env, r.json()))).json()["status"] == "requested"


async def test_a_card_paid_hold_is_409_once_confirmed(env: Env) -> None:
    booking = await checkout_by_card(env, 60, 62)
    intent_id = booking["payment"]["client"]["payment_intent_id"]
    r = await env.http.post(
        f"{env.stripe_url}/control/payment_intents/{intent_id}/complete",
        json={"outcome": "succeeded"},
    )
    assert r.status_code == 200, r.text
    assert await status_of(env, booking) == "confirmed"
    async with transaction(uuid.UUID(env.e.agency.id)) as session:
        hold_id = (
            await session.execute(
                select(Booking.id).where(Booking.reference == booking["reference"])
            )
        ).scalar_one()
        token = "released-test-token-0001"
        await session.execute(
            update(Booking).where(Booking.id == hold_id).values(hold_token_hash=token_hash(token))
        )
    assert_problem(await release(env, token), 409, "/problems/hold-used")
    assert env.fake.intents[intent_id]["status"] == "succeeded"


async def test_an_expired_hold_is_409_expired(env: Env) -> None:
    token = await hold(env, 70, 72)
    async with transaction(uuid.UUID(env.e.agency.id)) as session:
        await session.execute(
            update(Booking)
            .where(Booking.hold_token_hash == token_hash(token))
            .values(hold_expires_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 1))
        )
    # Past its expiry but not yet swept, and after the sweep: the same answer.
    assert_problem(await release(env, token), 409, "/problems/hold-expired")
    await hold(env, 70, 72)  # whoever books next expires it
    assert (await the_hold(env, token)).status.value == "expired"
    assert_problem(await release(env, token), 409, "/problems/hold-expired")


async def test_a_malformed_token_is_422_not_500(env: Env) -> None:
    r = await env.http.delete(env.e.url("/holds/short"))
    assert r.status_code == 422, r.text
    r = await env.http.delete(env.e.url("/holds/" + "a%20b" * 5))
    assert r.status_code == 422, r.text
