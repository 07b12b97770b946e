"""Rates through the API: worked examples to the cent, seasons that may not overlap, quotes that
name the rule they break, bookings checked against restrictions, and ARI rows that follow every
change in the same transaction."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from pms import db
from pms.core import ari_store
from pms.core.permissions import Role
from pms.models.rates import RatePlan
from tests.factories import Agency, full_agency
from tests.services import plain

TODAY = datetime.now(UTC).date()
# A Monday about two months ahead, inside every plan's 24-month window.
_AHEAD = TODAY + timedelta(days=60)
D = _AHEAD - timedelta(days=_AHEAD.weekday())


def day(n: int) -> str:
    return (D + timedelta(days=n)).isoformat()


@pytest.fixture
async def agency(client: httpx.AsyncClient) -> Agency:
    return await full_agency(client)


async def post(client: httpx.AsyncClient, a: Agency, path: str, body: dict[str, Any]) -> str:
    r = await client.post(f"/api/v1{path}", json=body, headers=a.auth())
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def plan(client: httpx.AsyncClient, a: Agency, **body: Any) -> str:
    return await post(
        client,
        a,
        f"/properties/{a.property_id}/rate-plans",
        {"name": "Standard", "base_price_minor": 10000, **body},
    )


async def assign(client: httpx.AsyncClient, a: Agency, **body: Any) -> None:
    r = await client.put(f"/api/v1/properties/{a.property_id}/pricing", json=body, headers=a.auth())
    assert r.status_code == 200, r.text


async def quote(
    client: httpx.AsyncClient, a: Agency, start: int, end: int, **extra: Any
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/quotes",
        json={"property_id": a.property_id, "check_in": day(start), "check_out": day(end), **extra},
        headers=a.auth(),
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def minor(q: dict[str, Any], kind: str, code: str | None = None) -> list[int]:
    return [
        line["amount"]["amount_minor"]
        for line in q["lines"]
        if line["kind"] == kind and (code is None or line["code"] == code)
    ]


async def test_the_worked_example_comes_to_exactly_318_50(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    vat = await post(client, agency, "/tax-classes", {"code": "VAT19", "rate_percent": "19"})
    cleaning = await post(
        client,
        agency,
        "/fees",
        {
            "code": "cleaning",
            "kind": "per_stay",
            "currency": "EUR",
            "amount_minor": 5000,
            "tax_class_id": vat,
        },
    )
    service = await post(
        client,
        agency,
        "/fees",
        {
            "code": "service",
            "kind": "percent_of_accommodation",
            "currency": "EUR",
            "percent": "10.5",
        },
    )
    await plan(client, agency)
    await assign(client, agency, accommodation_tax_class_id=vat, fee_ids=[cleaning, service])
    q = await quote(client, agency, 0, 2)
    assert q["total"] == {"amount_minor": 31850, "currency": "EUR", "amount": "318.50"}
    assert minor(q, "night") == [10000, 10000]
    assert minor(q, "fee", "cleaning") == [5000]
    assert minor(q, "fee", "service") == [2100]
    assert minor(q, "vat") == [4750]
    assert q["taxes"][0]["base"]["amount_minor"] == 25000
    assert q["bookable"]
    assert q["reasons"] == []
    assert sum(line["amount"]["amount_minor"] for line in q["lines"]) == 31850
    assert {line["amount"]["currency"] for line in q["lines"]} == {"EUR"}


async def test_a_season_crossing_the_stay_with_weekday_prices_and_a_long_stay_discount(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    # The plan's Friday/Saturday prices must not leak into the season, which sets its own.
    plan_id = await plan(
        client,
        agency,
        weekday_prices={"4": 12000, "5": 12000},
        los_discounts=[{"min_nights": 7, "percent": "10"}, {"min_nights": 28, "percent": "20"}],
    )
    await post(
        client,
        agency,
        f"/rate-plans/{plan_id}/seasons",
        {"start": day(3), "end": day(10), "price_minor": 15000, "weekday_prices": {"5": 18000}},
    )
    q = await quote(client, agency, 0, 7)  # Monday to Monday
    assert minor(q, "night") == [10000, 10000, 10000, 15000, 15000, 18000, 15000]
    assert minor(q, "discount") == [-9300]
    assert q["total"]["amount"] == "837.00"
    # Before the season the plan's weekend price applies.
    q = await quote(client, agency, -3, -1)  # Friday, Saturday
    assert minor(q, "night") == [12000, 12000]


async def test_inclusive_vat_is_reported_not_added(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    vat = await post(
        client, agency, "/tax-classes", {"code": "VAT7", "rate_percent": "7", "inclusive": True}
    )
    await plan(client, agency, base_price_minor=10700)
    await assign(client, agency, accommodation_tax_class_id=vat)
    q = await quote(client, agency, 0, 1)
    assert q["total"]["amount_minor"] == 10700
    assert minor(q, "vat") == []
    (tax,) = q["taxes"]
    assert tax["inclusive"]
    assert tax["amount"]["amount_minor"] == 700


async def test_every_fee_type_and_visitor_tax_with_children_and_a_night_cap(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    fees = [
        await post(
            client,
            agency,
            "/fees",
            {"code": code, "kind": kind, "currency": "EUR", "amount_minor": amount, **extra},
        )
        for code, kind, amount, extra in [
            ("night", "per_night", 500, {}),
            ("linen", "per_guest_per_night", 200, {}),
            ("extra", "per_extra_guest_per_night", 300, {"guests_included": 2}),
            ("pet", "per_pet", 1500, {}),
        ]
    ]
    tax = await post(
        client,
        agency,
        "/visitor-taxes",
        {
            "name": "Sylt",
            "currency": "EUR",
            "amount_minor": 350,
            "child_age_limit": 6,
            "max_nights": 2,
        },
    )
    await plan(client, agency)
    await assign(client, agency, fee_ids=fees, visitor_tax_location_id=tax)
    q = await quote(client, agency, 0, 3, adults=2, children_ages=[5, 12], pets=1)
    assert minor(q, "fee") == [1500, 2400, 1800, 1500]
    # 2 adults + the 12-year-old pay (the 5-year-old is below 6), for 2 of the 3 nights.
    assert minor(q, "visitor_tax") == [2100]
    assert q["total"]["amount_minor"] == 30000 + 1500 + 2400 + 1800 + 1500 + 2100


async def test_refunds_round_half_up_9999_times_12_percent_is_1200(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    policy = await post(
        client,
        agency,
        "/cancellation-policies",
        {
            "name": "Odd",
            "rules": [
                {"days_before": 0, "refund_percent": "12"},
                {"days_before": 30, "refund_percent": "100"},
            ],
        },
    )
    await plan(client, agency, base_price_minor=9999)
    await assign(client, agency, cancellation_policy_id=policy)
    q = await quote(client, agency, 0, 1)
    steps = [
        (s["first_day"], s["last_day"], s["refund"]["amount_minor"]) for s in q["cancellation"]
    ]
    assert steps == [
        (None, (D - timedelta(days=30)).isoformat(), 9999),
        ((D - timedelta(days=29)).isoformat(), day(0), 1200),
        (day(1), None, 0),
    ]


async def test_overlapping_seasons_are_409_and_back_to_back_is_fine(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    plan_id = await plan(client, agency)
    path = f"/api/v1/rate-plans/{plan_id}/seasons"
    h = agency.auth()
    first = await post(
        client, agency, path[7:], {"start": day(0), "end": day(10), "price_minor": 1}
    )
    r = await client.post(path, json={"start": day(9), "end": day(12), "price_minor": 2}, headers=h)
    assert r.status_code == 409, r.text
    assert r.json()["conflict_type"] == "season_overlap"
    assert r.json()["clash"]["id"] == first
    second = await post(
        client, agency, path[7:], {"start": day(10), "end": day(12), "price_minor": 2}
    )
    r = await client.patch(f"{path}/{second}", json={"start": day(5)}, headers=h)
    assert r.status_code == 409
    r = await client.get(path, headers=h)
    assert [(s["start"], s["end"]) for s in r.json()] == [(day(0), day(10)), (day(10), day(12))]


async def test_quotes_that_cannot_be_booked_name_each_rule(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    plan_id = await plan(client, agency, min_lead_days=3)
    h = agency.auth()
    await post(
        client,
        agency,
        f"/rate-plans/{plan_id}/seasons",
        {"start": day(30), "end": day(40), "price_minor": 15000, "min_stay": 3},
    )
    r = await client.put(
        f"/api/v1/rate-plans/{plan_id}/days",
        json={"ranges": [{"start": day(20), "end": day(21), "closed_to_arrival": True}]},
        headers=h,
    )
    assert r.status_code == 200
    assert r.json()["days_changed"] == 1
    r = await client.post(
        "/api/v1/blocks",
        json={"property_id": agency.property_id, "start": day(1), "end": day(2)},
        headers=h,
    )
    assert r.status_code == 201

    def rules(q: dict[str, Any]) -> dict[str, dict[str, Any]]:
        assert not q["bookable"]
        return {reason["rule"]: reason for reason in q["reasons"]}

    unavailable = rules(await quote(client, agency, 0, 3))["unavailable"]
    assert unavailable["dates"] == [day(1)]
    min_stay = rules(await quote(client, agency, 30, 32))["min_stay"]
    assert (min_stay["source"], min_stay["limit"], min_stay["actual"]) == ("season", 3, 2)
    assert "season" in min_stay["message"]
    assert "closed_to_arrival" in rules(await quote(client, agency, 20, 22))
    assert "max_guests" in rules(await quote(client, agency, 5, 6, adults=5))
    r = await client.post(
        "/api/v1/quotes",
        json={
            "property_id": agency.property_id,
            "check_in": (TODAY + timedelta(days=1)).isoformat(),
            "check_out": (TODAY + timedelta(days=2)).isoformat(),
        },
        headers=h,
    )
    assert r.json()["reasons"][0]["rule"] == "booking_window"
    far = (TODAY + timedelta(days=800)).isoformat()
    r = await client.post(
        "/api/v1/quotes",
        json={"property_id": agency.property_id, "check_in": far, "check_out": "2099-01-01"},
        headers=h,
    )
    assert r.status_code == 422  # over 731 nights
    assert (await quote(client, agency, 40, 41))["bookable"]


async def test_bookings_store_the_quote_and_restrictions_refuse_unless_a_manager_overrides(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    plan_id = await plan(client, agency, default_min_stay=2)
    del plan_id

    def body(start: int, end: int, **extra: Any) -> dict[str, Any]:
        return {
            "property_id": agency.property_id,
            "check_in": day(start),
            "check_out": day(end),
            "guest_id": agency.guest_id,
            **extra,
        }

    r = await client.post("/api/v1/bookings", json=body(0, 1), headers=agency.auth())
    assert r.status_code == 422
    problem = r.json()
    assert problem["type"] == "/problems/stay-not-bookable"
    assert [(e["rule"], e["source"], e["limit"]) for e in problem["errors"]] == [
        ("min_stay", "plan", 2)
    ]
    r = await client.post(
        "/api/v1/bookings",
        json=body(0, 1, override_restrictions=True),
        headers=agency.auth(Role.STAFF),
    )
    assert r.status_code == 403
    r = await client.post(
        "/api/v1/bookings",
        json=body(0, 1, override_restrictions=True),
        headers=agency.auth(Role.MANAGER),
    )
    assert r.status_code == 201, r.text
    assert r.json()["quote"]["restrictions_overridden"] is True
    r = await client.post("/api/v1/bookings", json=body(3, 6), headers=agency.auth(Role.STAFF))
    assert r.status_code == 201, r.text
    stored = r.json()["quote"]
    assert stored["total"] == {"amount_minor": 30000, "currency": "EUR", "amount": "300.00"}
    assert stored["bookable"]
    assert not stored["restrictions_overridden"]
    # Taken nights stay the inventory guard's: a 409 naming the clash, not a 422.
    r = await client.post("/api/v1/bookings", json=body(4, 7), headers=agency.auth())
    assert r.status_code == 409
    assert r.json()["conflict_type"] == "booking"


async def test_ari_rows_follow_bookings_blocks_and_rates_in_the_same_transaction(
    client: httpx.AsyncClient, agency: Agency, database_url: str
) -> None:
    plan_id = await plan(client, agency)
    h = agency.auth()

    async def ari(start: int, end: int) -> list[dict[str, Any]]:
        r = await client.get(
            f"/api/v1/properties/{agency.property_id}/ari",
            params={"start": day(start), "end": day(end)},
            headers=h,
        )
        assert r.status_code == 200, r.text
        days: list[dict[str, Any]] = r.json()["rate_plans"][0]["days"]
        return days

    async def events() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(plain(database_url))
        try:
            rows = await conn.fetch(
                "SELECT payload FROM outbox_events WHERE event_type = 'ari.changed' ORDER BY id"
            )
        finally:
            await conn.close()
        import json

        return [json.loads(r["payload"]) for r in rows]

    first = await events()
    assert len(first) == 1
    assert first[0]["rate_plan_id"] == plan_id
    r = await client.post(
        "/api/v1/bookings",
        json={
            "property_id": agency.property_id,
            "check_in": day(2),
            "check_out": day(5),
            "guest_id": agency.guest_id,
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    booking = r.json()
    assert [d["available"] for d in await ari(0, 7)] == [
        True,
        True,
        False,
        False,
        False,
        True,
        True,
    ]
    assert (await events())[-1] == {
        "property_id": agency.property_id,
        "rate_plan_id": plan_id,
        "start": day(2),
        "end": day(5),
    }
    r = await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=h)
    assert r.status_code == 200
    assert all(d["available"] for d in await ari(0, 7))
    assert (await events())[-1]["start"] == day(2)

    r = await client.put(
        f"/api/v1/rate-plans/{plan_id}/days",
        json={"ranges": [{"start": day(3), "end": day(5), "price": 9900, "closed": True}]},
        headers=h,
    )
    assert r.status_code == 200
    rows = await ari(2, 6)
    assert [(d["price"]["amount_minor"], d["available"]) for d in rows] == [
        (10000, True),
        (9900, False),
        (9900, False),
        (10000, True),
    ]
    assert (await events())[-1]["start"] == day(3)
    assert (await events())[-1]["end"] == day(5)
    # null clears a value back to the plan's; a date left with no override loses its row.
    r = await client.put(
        f"/api/v1/rate-plans/{plan_id}/days",
        json={"ranges": [{"start": day(3), "end": day(5), "price_minor": None, "closed": False}]},
        headers=h,
    )
    assert r.json()["days_changed"] == 2
    assert all(d["price"]["amount_minor"] == 10000 and d["available"] for d in await ari(2, 6))

    n = len(await events())
    r = await client.post(
        f"/api/v1/rate-plans/{plan_id}/seasons",
        json={"start": day(0), "end": day(365), "price_minor": 20000},
        headers=h,
    )
    assert r.status_code == 201
    assert (await events())[n:] == [
        {
            "property_id": agency.property_id,
            "rate_plan_id": plan_id,
            "start": day(0),
            "end": day(365),
        }
    ]
    assert {d["price"]["amount"] for d in await ari(0, 366)} == {"200.00", "100.00"}


async def test_configuration_refuses_duplicates_objects_in_use_and_foreign_currencies(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    h = agency.auth()
    vat = await post(client, agency, "/tax-classes", {"code": "VAT19", "rate_percent": "19"})
    r = await client.post(
        "/api/v1/tax-classes", json={"code": "VAT19", "rate_percent": "7"}, headers=h
    )
    assert r.status_code == 409
    fee = await post(
        client,
        agency,
        "/fees",
        {
            "code": "clean",
            "kind": "per_stay",
            "currency": "EUR",
            "amount_minor": 1,
            "tax_class_id": vat,
        },
    )
    r = await client.post(
        "/api/v1/fees",
        json={"code": "svc", "kind": "per_stay", "currency": "EUR", "percent": "5"},
        headers=h,
    )
    assert r.status_code == 422  # a percent belongs to percent fees only
    usd = await post(
        client,
        agency,
        "/fees",
        {"code": "usd", "kind": "per_stay", "currency": "USD", "amount_minor": 1},
    )
    r = await client.put(
        f"/api/v1/properties/{agency.property_id}/pricing", json={"fee_ids": [usd]}, headers=h
    )
    assert r.status_code == 422
    await assign(client, agency, fee_ids=[fee], accommodation_tax_class_id=vat)
    assert (await client.delete(f"/api/v1/tax-classes/{vat}", headers=h)).status_code == 409
    assert (await client.delete(f"/api/v1/fees/{fee}", headers=h)).status_code == 409
    await assign(client, agency)
    assert (await client.delete(f"/api/v1/fees/{fee}", headers=h)).status_code == 204
    assert (await client.delete(f"/api/v1/tax-classes/{vat}", headers=h)).status_code == 204


async def test_a_cancellation_policy_is_edited_and_deleted_only_when_unused(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    h = agency.auth()
    policy = await post(
        client,
        agency,
        "/cancellation-policies",
        {"name": "Flex", "rules": [{"days_before": 14, "refund_percent": "100"}]},
    )
    url = f"/api/v1/cancellation-policies/{policy}"
    r = await client.patch(
        url,
        json={
            "name": "Moderate",
            "rules": [
                {"days_before": 30, "refund_percent": "100"},
                {"days_before": 7, "refund_percent": "50"},
            ],
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Moderate"
    assert [(x["days_before"], x["refund_percent"]) for x in r.json()["rules"]] == [
        (30, "100"),
        (7, "50"),
    ]
    r = await client.patch(url, json={"rules": []}, headers=h)
    assert r.status_code == 422  # a policy keeps at least one rule
    r = await client.patch(url, json={"name": None}, headers=h)
    assert r.status_code == 422
    await assign(client, agency, cancellation_policy_id=policy)
    r = await client.delete(url, headers=h)
    assert r.status_code == 409
    assert r.json()["detail"] == "The cancellation policy is in use; unassign it first."
    assert (await client.get(url, headers=h)).status_code == 200
    await assign(client, agency)
    assert (await client.delete(url, headers=h)).status_code == 204
    assert (await client.get(url, headers=h)).status_code == 404
    assert (await client.delete(url, headers=h)).status_code == 404


async def test_a_plans_weekday_prices_and_long_stay_discounts_are_changed(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    """What the web app's rate plan editor sends: the whole weekday map and discount list."""
    h = agency.auth()
    url = f"/api/v1/rate-plans/{await plan(client, agency)}"
    body = {
        "weekday_prices": {"4": 12000, "5": 13000},
        "los_discounts": [{"min_nights": 7, "percent": "10"}],
    }
    r = await client.patch(url, json=body, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["weekday_prices"] == {"4": 12000, "5": 13000}
    assert r.json()["los_discounts"] == [{"min_nights": 7, "percent": "10"}]
    r = await client.patch(url, json={"weekday_prices": {}, "los_discounts": []}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["weekday_prices"] == {}
    assert r.json()["los_discounts"] == []
    for bad in (
        {"weekday_prices": {"7": 100}},
        {"weekday_prices": {"1": -1}},
        {"los_discounts": [{"min_nights": 0, "percent": "10"}]},
        {"los_discounts": [{"min_nights": 7, "percent": "101"}]},
    ):
        r = await client.patch(url, json=bad, headers=h)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["errors"], r.text


async def test_one_default_plan_per_property(client: httpx.AsyncClient, agency: Agency) -> None:
    h = agency.auth()
    first = await plan(client, agency, is_default=False)  # the first plan is the default anyway
    second = await plan(client, agency, name="Non-refundable", is_default=True)
    r = await client.get(f"/api/v1/properties/{agency.property_id}/rate-plans", headers=h)
    assert [(p["id"], p["is_default"]) for p in r.json()] == [(second, True), (first, False)]
    assert (await client.delete(f"/api/v1/rate-plans/{second}", headers=h)).status_code == 409
    assert (await client.delete(f"/api/v1/rate-plans/{first}", headers=h)).status_code == 204
    assert (await client.delete(f"/api/v1/rate-plans/{second}", headers=h)).status_code == 204
    r = await client.post(
        "/api/v1/quotes",
        json={"property_id": agency.property_id, "check_in": day(0), "check_out": day(1)},
        headers=h,
    )
    assert r.status_code == 404  # no plan, nothing to quote


async def test_a_booking_closes_its_open_nights_in_every_plan_and_announces_just_those(
    client: httpx.AsyncClient, agency: Agency, database_url: str
) -> None:
    """A new booking writes its ARI rows without recompiling them (its nights were free and no
    rule changed): the rows must still equal a from-scratch compile, per plan, and each plan's
    ari.changed must name exactly the nights that changed."""
    h = agency.auth()
    first = await plan(client, agency)
    second = await plan(client, agency, name="Non-refundable", base_price_minor=9000)
    # The stay's first night is already closed in the second plan: only nights 3-4 change there.
    r = await client.put(
        f"/api/v1/rate-plans/{second}/days",
        json={"ranges": [{"start": day(2), "end": day(3), "closed": True}]},
        headers=h,
    )
    assert r.status_code == 200, r.text
    conn = await asyncpg.connect(plain(database_url))
    try:
        before = await conn.fetchval("SELECT max(id) FROM outbox_events")
        r = await client.post(
            "/api/v1/bookings",
            json={
                "property_id": agency.property_id,
                "check_in": day(2),
                "check_out": day(5),
                "guest_id": agency.guest_id,
                "override_restrictions": True,
            },
            headers=agency.auth(Role.MANAGER),
        )
        assert r.status_code == 201, r.text
        rows = await conn.fetch(
            "SELECT event_type, aggregate_id, payload FROM outbox_events WHERE id > $1 "
            "AND event_type = 'ari.changed' ORDER BY id",
            before,
        )
    finally:
        await conn.close()
    spans = {r["aggregate_id"]: json.loads(r["payload"]) for r in rows}
    assert spans == {
        first: {
            "property_id": agency.property_id,
            "rate_plan_id": first,
            "start": day(2),
            "end": day(5),
        },
        second: {
            "property_id": agency.property_id,
            "rate_plan_id": second,
            "start": day(3),
            "end": day(5),
        },
    }
    r = await client.get(
        f"/api/v1/properties/{agency.property_id}/ari",
        params={"start": day(1), "end": day(6)},
        headers=h,
    )
    by_plan = {p["rate_plan_id"]: p["days"] for p in r.json()["rate_plans"]}
    assert [d["available"] for d in by_plan[first]] == [True, False, False, False, True]
    assert [d["available"] for d in by_plan[second]] == [True, False, False, False, True]
    # The stored rows are what a full recompilation gives.
    async with db.get_sessionmaker()() as session, session.begin():
        await db.system_access(session)
        for plan_id in (first, second):
            stored = await session.get(RatePlan, uuid.UUID(plan_id))
            assert stored is not None
            compiled = await ari_store.compile_stored_window(
                session, stored, stored.ari_start, stored.ari_end
            )
            kept = await ari_store.stored_rows(session, stored.id, stored.ari_start, stored.ari_end)
            assert kept == compiled


async def test_concurrent_rate_changes_to_one_plan_all_land(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    """Staff and a channel manager change one plan's prices and seasons at the same time: every
    change is applied (no 500). A write that inserted the plan's child rows (which share-lock
    the plan row for the foreign key) before locking the plan to recompile its ARI rows
    deadlocked with another such write."""
    plan_id = await plan(client, agency)
    h = agency.auth()

    async def price(n: int) -> httpx.Response:
        body = {"ranges": [{"start": day(n), "end": day(n + 1), "price_minor": 20000 + n}]}
        return await client.put(f"/api/v1/rate-plans/{plan_id}/days", json=body, headers=h)

    async def season(n: int) -> httpx.Response:
        body = {"start": day(100 + 3 * n), "end": day(101 + 3 * n), "price_minor": 30000 + n}
        return await client.post(f"/api/v1/rate-plans/{plan_id}/seasons", json=body, headers=h)

    answers = await asyncio.gather(*(price(n) for n in range(12)), *(season(n) for n in range(6)))
    assert [r.status_code for r in answers] == [200] * 12 + [201] * 6, [r.text for r in answers]
    r = await client.get(
        f"/api/v1/properties/{agency.property_id}/ari",
        params={"start": day(0), "end": day(120)},
        headers=h,
    )
    assert r.status_code == 200, r.text
    (stored,) = r.json()["rate_plans"]
    prices = {row["date"]: row["price"]["amount_minor"] for row in stored["days"]}
    assert [prices[day(n)] for n in range(12)] == [20000 + n for n in range(12)]
    assert [prices[day(100 + 3 * n)] for n in range(6)] == [30000 + n for n in range(6)]


async def test_a_days_update_writes_overrides_rows_one_event_and_one_audit_row(
    client: httpx.AsyncClient, agency: Agency, database_url: str
) -> None:
    """`PUT …/days` reads the plan's window once and writes everything in one statement: the
    overrides (merged with those already there, a later range winning), the ARI rows as a full
    compile gives them (seasons and booked nights included), one ari.changed for exactly the
    changed rows, and one audit row; an override that changes no row writes the override and
    the audit row but no event; an unchanged update writes nothing."""
    h = agency.auth()
    plan_id = await plan(client, agency)
    r = await client.post(
        f"/api/v1/rate-plans/{plan_id}/seasons",
        json={"start": day(0), "end": day(10), "price_minor": 15000, "min_stay": 2},
        headers=h,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/bookings",
        json={
            "property_id": agency.property_id,
            "check_in": day(4),
            "check_out": day(6),
            "guest_id": agency.guest_id,
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    r = await client.put(
        f"/api/v1/rate-plans/{plan_id}/days",
        json={"ranges": [{"start": day(2), "end": day(3), "min_stay": 3}]},
        headers=h,
    )
    assert r.status_code == 200, r.text
    conn = await asyncpg.connect(plain(database_url))

    async def since(table: str, after: int) -> list[asyncpg.Record]:
        where = "event_type = 'ari.changed'" if table == "outbox_events" else "true"
        return list(
            await conn.fetch(f"SELECT * FROM {table} WHERE id > $1 AND {where} ORDER BY id", after)
        )

    async def last_ids() -> tuple[int, int]:
        return (
            await conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox_events"),
            await conn.fetchval("SELECT coalesce(max(id), 0) FROM audit_log"),
        )

    try:
        e0, a0 = await last_ids()
        ranges = [
            {"start": day(1), "end": day(6), "price_minor": 12000},
            {"start": day(3), "end": day(4), "price_minor": 13000, "closed_to_arrival": True},
        ]
        r = await client.put(
            f"/api/v1/rate-plans/{plan_id}/days", json={"ranges": ranges}, headers=h
        )
        assert r.status_code == 200, r.text
        assert r.json()["days_changed"] == 5
        overrides = await conn.fetch(
            "SELECT day, price_minor, min_stay, closed_to_arrival FROM rate_day_overrides "
            "WHERE rate_plan_id = $1 ORDER BY day",
            uuid.UUID(plan_id),
        )
        assert [
            (str(o["day"]), o["price_minor"], o["min_stay"], o["closed_to_arrival"])
            for o in overrides
        ] == [
            (day(1), 12000, None, False),
            (day(2), 12000, 3, False),  # merged with the override already there
            (day(3), 13000, None, True),  # the later range wins
            (day(4), 12000, None, False),
            (day(5), 12000, None, False),
        ]
        (event,) = await since("outbox_events", e0)
        assert json.loads(event["payload"]) == {
            "property_id": agency.property_id,
            "rate_plan_id": plan_id,
            "start": day(1),
            "end": day(6),
        }
        (entry,) = await since("audit_log", a0)
        assert (entry["entity_type"], entry["entity_id"], entry["action"]) == (
            "rate_plan",
            plan_id,
            "days_updated",
        )
        assert entry["actor_user_id"] is not None
        assert json.loads(entry["after"])["ranges"][1]["price_minor"] == 13000
        assert entry["request_id"] == event["request_id"] is not None
        r = await client.get(
            f"/api/v1/properties/{agency.property_id}/ari",
            params={"start": day(0), "end": day(7)},
            headers=h,
        )
        rows = r.json()["rate_plans"][0]["days"]
        assert [
            (d["price"]["amount_minor"], d["min_stay"], d["available"], d["closed_to_arrival"])
            for d in rows
        ] == [
            (15000, 2, True, False),
            (12000, 2, True, False),
            (12000, 3, True, False),
            (13000, 2, True, True),
            (12000, 2, False, False),  # booked
            (12000, 2, False, False),
            (15000, 2, True, False),
        ]
        async with db.get_sessionmaker()() as session, session.begin():
            await db.system_access(session)
            stored = await session.get(RatePlan, uuid.UUID(plan_id))
            assert stored is not None
            assert await ari_store.stored_rows(
                session, stored.id, stored.ari_start, stored.ari_end
            ) == await ari_store.compile_stored_window(
                session, stored, stored.ari_start, stored.ari_end
            )

        # The same again: nothing is written.
        e1, a1 = await last_ids()
        r = await client.put(
            f"/api/v1/rate-plans/{plan_id}/days", json={"ranges": ranges}, headers=h
        )
        assert r.json()["days_changed"] == 0
        assert (await since("outbox_events", e1), await since("audit_log", a1)) == ([], [])

        # An override equal to what the rules give: the override and its audit row, no event.
        r = await client.put(
            f"/api/v1/rate-plans/{plan_id}/days",
            json={"ranges": [{"start": day(8), "end": day(9), "price_minor": 15000}]},
            headers=h,
        )
        assert r.json()["days_changed"] == 1
        assert await since("outbox_events", e1) == []
        assert len(await since("audit_log", a1)) == 1
        assert (
            await conn.fetchval(
                "SELECT price_minor FROM rate_day_overrides WHERE rate_plan_id = $1 AND day = $2",
                uuid.UUID(plan_id),
                D + timedelta(days=8),
            )
            == 15000
        )

        # Clearing: the dates left with no override lose their rows, the rows go back.
        r = await client.put(
            f"/api/v1/rate-plans/{plan_id}/days",
            json={
                "ranges": [
                    {
                        "start": day(1),
                        "end": day(9),
                        "price_minor": None,
                        "min_stay": None,
                        "closed_to_arrival": False,
                    }
                ]
            },
            headers=h,
        )
        assert r.json()["days_changed"] == 8  # dates with no override count as before
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM rate_day_overrides WHERE rate_plan_id = $1",
                uuid.UUID(plan_id),
            )
            == 0
        )
        (event,) = await since("outbox_events", e1)
        assert (json.loads(event["payload"])["start"], json.loads(event["payload"])["end"]) == (
            day(1),
            day(6),
        )
    finally:
        await conn.close()
