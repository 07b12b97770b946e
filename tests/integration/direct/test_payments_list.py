"""GET /api/v1/payments: the team's list of what guests paid and what went back."""

from __future__ import annotations

import uuid

import httpx

from pms.core.money import Money
from pms.db import transaction
from pms.direct.payments import (
    OfflineProvider,
    PaymentRequest,
    mark_offline_payment_received,
    refund_payment,
    start_payment,
)
from pms.models.payment import PaymentMethod
from pms.settings import Settings
from tests.factories import signup
from tests.integration.direct.conftest import BookedAgency


async def _paid_and_partly_refunded(b: BookedAgency) -> uuid.UUID:
    offline = OfflineProvider()
    request = PaymentRequest(
        agency_id=b.agency_id,
        booking_id=b.booking_id,
        booking_reference=b.reference,
        amount=Money(45000, "EUR"),
        method=PaymentMethod.BANK_TRANSFER,
        description=f"Booking {b.reference}",
    )
    async with transaction(b.agency_id) as session:
        started = await start_payment(session, offline, request)
    async with transaction(b.agency_id) as session:
        await mark_offline_payment_received(session, started.payment_id)
    async with transaction(b.agency_id) as session:
        await refund_payment(session, offline, started.payment_id, Money(20000, "EUR"))
    return started.payment_id


async def test_payments_are_listed_with_their_refunds_and_filtered(
    settings: Settings, client: httpx.AsyncClient, booked: BookedAgency
) -> None:
    payment_id = await _paid_and_partly_refunded(booked)
    h = {"Authorization": f"Bearer {booked.token}"}
    r = await client.get("/api/v1/payments", headers=h)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 1
    [p] = page["items"]
    assert p["id"] == str(payment_id)
    assert p["booking_id"] == str(booked.booking_id)
    assert p["booking_reference"] == booked.reference
    assert (p["provider"], p["method"], p["status"]) == (
        "offline",
        "bank_transfer",
        "partially_refunded",
    )
    assert p["amount"] == {"amount_minor": 45000, "currency": "EUR", "amount": "450.00"}
    assert p["refunded"]["amount_minor"] == 20000
    assert p["succeeded_at"] is not None

    by_status = await client.get(
        "/api/v1/payments", params={"status": ["pending", "failed"]}, headers=h
    )
    assert by_status.json()["total"] == 0
    by_booking = await client.get(
        "/api/v1/payments", params={"booking_id": str(booked.booking_id)}, headers=h
    )
    assert [x["id"] for x in by_booking.json()["items"]] == [str(payment_id)]
    other_booking = await client.get(
        "/api/v1/payments", params={"booking_id": str(uuid.uuid4())}, headers=h
    )
    assert other_booking.json()["items"] == []

    bad = await client.get("/api/v1/payments", params={"status": "lost"}, headers=h)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/api/v1/payments")).status_code == 401


async def test_another_agency_sees_none_of_them(
    settings: Settings, client: httpx.AsyncClient, booked: BookedAgency
) -> None:
    await _paid_and_partly_refunded(booked)
    _, token, _ = await signup(client, "Other Agency")
    r = await client.get("/api/v1/payments", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert r.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
