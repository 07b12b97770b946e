"""A staff cancel refunds what the cancellation policy promises, or what a manager chooses (and
that choice is audited), and pays it back: a card payment at (the fake) Stripe."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select

from pms.core.permissions import Role
from pms.db import transaction
from pms.models.outbox import OutboxEvent
from tests.integration.direct.engine import GUEST, day, search_params
from tests.integration.direct.stripe_env import Env, checkout_by_card


async def staff_booking(env: Env, start: int, end: int) -> dict[str, Any]:
    r = await env.http.post(
        "/api/v1/bookings",
        json={
            "property_id": env.e.property_id,
            "check_in": day(start),
            "check_out": day(end),
            "adults": 2,
            "guest": GUEST,
        },
        headers=env.e.agency.auth(),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def audit_actions(env: Env, booking_id: str) -> list[dict[str, Any]]:
    r = await env.http.get(
        "/api/v1/audit-log",
        params={"entity_type": "booking", "entity_id": booking_id, "limit": 100},
        headers=env.e.agency.auth(),
    )
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def cancel(
    env: Env, booking_id: str, body: dict[str, Any] | None = None, role: Role = Role.ADMIN
) -> httpx.Response:
    return await env.http.post(
        f"/api/v1/bookings/{booking_id}/cancel",
        json=body,
        headers=env.e.agency.auth(role),
    )


async def availability_events(env: Env) -> list[dict[str, Any]]:
    async with transaction(uuid.UUID(env.e.agency.id)) as session:
        rows = await session.execute(
            select(OutboxEvent.payload)
            .where(
                OutboxEvent.event_type == "availability.changed",
                OutboxEvent.aggregate_id == env.e.property_id,
            )
            .order_by(OutboxEvent.id)
        )
        return [dict(p) for p in rows.scalars()]


async def test_a_staff_cancel_frees_the_nights_and_announces_it(env: Env) -> None:
    booking = await staff_booking(env, 20, 23)
    search = env.e.url("/search")
    assert (await env.http.get(search, params=search_params(20, 23))).json()["count"] == 0
    before = await availability_events(env)

    r = await cancel(env, booking["id"])
    assert r.status_code == 200, r.text
    # One availability.changed for exactly the nights it held (the channels and the iCal
    # exports hear of them from it), in the cancel's own transaction.
    nights = {"property_id": env.e.property_id, "start": day(20), "end": day(23)}
    assert await availability_events(env) == [*before, nights]
    assert (await env.http.get(search, params=search_params(20, 23))).json()["count"] == 1
    # Cancelling again changes nothing, and announces nothing.
    assert (await cancel(env, booking["id"])).status_code == 200
    assert await availability_events(env) == [*before, nights]


async def test_a_staff_cancel_stores_and_returns_the_policy_refund(env: Env) -> None:
    # 20 days ahead: the policy (100 % up to 30 days, 50 % up to 7) gives half back.
    booking = await staff_booking(env, 20, 23)
    total = booking["quote"]["total"]["amount_minor"]
    assert booking["refund"] is None
    r = await cancel(env, booking["id"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    half = (total + 1) // 2
    assert r.json()["refund"] == {
        "amount_minor": half,
        "currency": "EUR",
        "amount": f"{half / 100:.2f}",
    }
    stored = await env.http.get(f"/api/v1/bookings/{booking['id']}", headers=env.e.agency.auth())
    assert stored.json()["refund"]["amount_minor"] == half
    actions = [e["action"] for e in await audit_actions(env, booking["id"])]
    assert "status:cancelled" in actions
    assert "refund_overridden" not in actions
    # Cancelling again changes nothing and keeps the refund.
    again = await cancel(env, booking["id"])
    assert again.status_code == 200
    assert again.json()["refund"]["amount_minor"] == half
    assert again.json()["version"] == r.json()["version"]


async def test_a_stay_cancelled_early_gets_everything_back(env: Env) -> None:
    booking = await staff_booking(env, 60, 62)
    r = await cancel(env, booking["id"])
    assert r.status_code == 200, r.text
    assert r.json()["refund"]["amount_minor"] == booking["quote"]["total"]["amount_minor"]


async def test_a_manager_may_give_another_amount_and_it_is_audited(env: Env) -> None:
    booking = await staff_booking(env, 10, 12)
    total = booking["quote"]["total"]["amount_minor"]
    too_much = await cancel(env, booking["id"], {"refund_minor": total + 1})
    assert too_much.status_code == 422
    assert too_much.json()["errors"][0]["field"] == "refund_minor"
    negative = await cancel(env, booking["id"], {"refund_minor": -1})
    assert negative.status_code == 422
    r = await cancel(env, booking["id"], {"refund_minor": 1234})
    assert r.status_code == 200, r.text
    assert r.json()["refund"]["amount_minor"] == 1234
    entries = await audit_actions(env, booking["id"])
    override = [e for e in entries if e["action"] == "refund_overridden"]
    assert len(override) == 1
    assert override[0]["after"]["refund_minor"] == 1234
    assert override[0]["before"]["refund_minor"] == (total + 1) // 2


async def test_roles_that_may_not_cancel_are_refused_and_nothing_changes(env: Env) -> None:
    booking = await staff_booking(env, 10, 12)
    for role in (Role.STAFF, Role.ACCOUNTANT):
        r = await cancel(env, booking["id"], {"refund_minor": 0}, role=role)
        assert r.status_code == 403, r.text
    r = await env.http.get(f"/api/v1/bookings/{booking['id']}", headers=env.e.agency.auth())
    assert r.json()["status"] == "confirmed"
    assert r.json()["refund"] is None


async def test_a_staff_cancel_of_a_card_paid_booking_refunds_at_stripe_once(env: Env) -> None:
    paid = await checkout_by_card(env, 20, 23)
    intent_id = paid["payment"]["client"]["payment_intent_id"]
    r = await env.http.post(
        f"{env.stripe_url}/control/payment_intents/{intent_id}/complete",
        json={"outcome": "succeeded", "deliver": True},
    )
    assert r.status_code == 200, r.text
    listed = await env.http.get(
        "/api/v1/bookings", params={"status": "confirmed"}, headers=env.e.agency.auth()
    )
    [booking] = [b for b in listed.json()["items"] if b["reference"] == paid["reference"]]
    total = booking["quote"]["total"]["amount_minor"]

    r = await cancel(env, booking["id"])
    assert r.status_code == 200, r.text
    refund = r.json()["refund"]["amount_minor"]
    assert refund == (total + 1) // 2
    refunds = (await env.http.get(f"{env.stripe_url}/control/refunds")).json()
    assert [(x["payment_intent"], x["amount"]) for x in refunds] == [(intent_id, refund)]

    again = await cancel(env, booking["id"])
    assert again.status_code == 200
    refunds = (await env.http.get(f"{env.stripe_url}/control/refunds")).json()
    assert len(refunds) == 1
