"""Every role-by-endpoint combination behaves as the role table in domain.md says."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from pms.core.permissions import Role
from tests.factories import Agency, add_rates, full_agency, property_body
from tests.integration.ical.helpers import ical_objects

A, M, S, AC, OW = Role.ADMIN, Role.MANAGER, Role.STAFF, Role.ACCOUNTANT, Role.OWNER
ALL = {A, M, S, AC, OW}
READERS = {A, M, S, AC}

# (method, path, body, roles allowed). Paths use the fixture's ids; the owner's own property
# is readable by the owner, the other property is not (404, as if it did not exist).
Case = tuple[str, str, Callable[[Agency], Any] | None, set[Role]]
CASES: list[Case] = [
    ("GET", "/api/v1/me", None, ALL),
    ("GET", "/api/v1/members", None, READERS),
    (
        "POST",
        "/api/v1/members",
        lambda a: {"email": f"{uuid.uuid4().hex}@x.io", "role": "staff"},
        {A},
    ),
    ("GET", "/api/v1/audit-log", None, {A}),
    ("GET", "/api/v1/properties", None, ALL),
    ("POST", "/api/v1/properties", lambda a: property_body(), {A, M}),
    ("GET", "/api/v1/properties/{owned}", None, ALL),
    ("GET", "/api/v1/properties/{property}", None, READERS),
    ("PATCH", "/api/v1/properties/{property}", lambda a: {"bedrooms": 2}, {A, M}),
    ("GET", "/api/v1/guests", None, READERS),
    ("POST", "/api/v1/guests", lambda a: {"last_name": "New"}, {A, M}),
    ("GET", "/api/v1/guests/{guest}", None, READERS),
    ("PATCH", "/api/v1/guests/{guest}", lambda a: {"notes": "VIP"}, {A, M}),
    ("GET", "/api/v1/guests/{guest}/export", None, {A}),
    ("GET", "/api/v1/bookings", None, ALL),
    ("GET", "/api/v1/payments", None, READERS),
    ("GET", "/api/v1/bookings/{booking}", None, READERS),
    ("POST", "/api/v1/bookings", lambda a: _booking(a), {A, M, S}),
    (
        "PATCH",
        "/api/v1/bookings/{booking}",
        lambda a: {"version": a.booking_version, "notes": "n"},
        {A, M},
    ),
    ("GET", "/api/v1/blocks", None, ALL),
    ("POST", "/api/v1/blocks", lambda a: _block(a, "maintenance"), {A, M, S}),
    ("GET", "/api/v1/calendar?start=2030-01-01&end=2030-02-01", None, ALL),
    ("GET", "/api/v1/calendar/ranges?start=2030-01-01&end=2030-02-01", None, ALL),
    ("GET", "/api/v1/properties/{owned}/availability?start=2030-01-01&end=2030-01-05", None, ALL),
    # Rates: reading needs rates.read (not owners), writing rates.write (admin, manager).
    ("GET", "/api/v1/properties/{property}/rate-plans", None, READERS),
    ("POST", "/api/v1/properties/{property}/rate-plans", lambda a: _plan(), {A, M}),
    ("GET", "/api/v1/rate-plans/{plan}", None, READERS),
    ("PATCH", "/api/v1/rate-plans/{plan}", lambda a: {"base_price_minor": 11000}, {A, M}),
    ("GET", "/api/v1/rate-plans/{plan}/seasons", None, READERS),
    ("POST", "/api/v1/rate-plans/{plan}/seasons", lambda a: _season(), {A, M}),
    ("PATCH", "/api/v1/rate-plans/{plan}/seasons/{season}", lambda a: {"name": "x"}, {A, M}),
    ("PUT", "/api/v1/rate-plans/{plan}/days", lambda a: _days(), {A, M}),
    ("GET", "/api/v1/properties/{property}/ari?start=2027-07-01&end=2027-07-08", None, READERS),
    ("POST", "/api/v1/quotes", lambda a: _quote(a), READERS),
    ("GET", "/api/v1/properties/{property}/pricing", None, READERS),
    (
        "PUT",
        "/api/v1/properties/{property}/pricing",
        lambda a: {"fee_ids": [a.fee_id], "accommodation_tax_class_id": a.tax_class_id},
        {A, M},
    ),
    ("GET", "/api/v1/tax-classes", None, READERS),
    ("POST", "/api/v1/tax-classes", lambda a: {"code": _code(), "rate_percent": "7"}, {A, M}),
    ("GET", "/api/v1/tax-classes/{tax_class}", None, READERS),
    ("PATCH", "/api/v1/tax-classes/{tax_class}", lambda a: {"label": "VAT"}, {A, M}),
    ("GET", "/api/v1/fees", None, READERS),
    ("POST", "/api/v1/fees", lambda a: _fee(), {A, M}),
    ("GET", "/api/v1/fees/{fee}", None, READERS),
    ("PATCH", "/api/v1/fees/{fee}", lambda a: {"amount_minor": 6000}, {A, M}),
    ("GET", "/api/v1/visitor-taxes", None, READERS),
    ("POST", "/api/v1/visitor-taxes", lambda a: _visitor_tax(), {A, M}),
    ("GET", "/api/v1/visitor-taxes/{visitor_tax}", None, READERS),
    ("PATCH", "/api/v1/visitor-taxes/{visitor_tax}", lambda a: {"amount_minor": 300}, {A, M}),
    ("GET", "/api/v1/cancellation-policies", None, READERS),
    ("POST", "/api/v1/cancellation-policies", lambda a: _policy(), {A, M}),
    ("GET", "/api/v1/cancellation-policies/{policy}", None, READERS),
    ("PATCH", "/api/v1/cancellation-policies/{policy}", lambda a: {"name": "Strict"}, {A, M}),
    ("GET", "/api/v1/properties/{property}/ical-exports", None, READERS),
    ("POST", "/api/v1/properties/{property}/ical-exports", lambda a: {}, {A, M}),
    ("GET", "/api/v1/ical-feeds", None, READERS),
    ("POST", "/api/v1/properties/{property}/ical-feeds", lambda a: _feed(), {A, M}),
    ("GET", "/api/v1/ical-feeds/{feed}", None, READERS),
    ("GET", "/api/v1/ical-feeds/{feed}/conflicts", None, READERS),
    ("POST", "/api/v1/ical-feeds/{feed}/sync", None, {A, M}),
    ("POST", "/api/v1/properties/{property}/ical-exports/{export}/rotate", None, {A, M}),
    ("GET", "/api/v1/alerts", None, READERS),
    ("POST", "/api/v1/alerts/{alert}/resolve", None, {A, M}),
]

_n = iter(range(10_000))


@pytest.fixture(autouse=True)
def _numbers_from_zero() -> None:
    """Each test numbers what it creates from 0, whatever ran before it in this process: a
    booking's date grows with the number (``_booking``) and must stay before the season that
    ``add_rates`` gives a min stay of 3. mutmut runs the tests twice in one process (its stats
    pass, then its clean run) and forks each mutant's run from that process, so a counter kept
    across tests had moved the bookings into the season there (422 "season min stay")."""
    global _n
    _n = iter(range(10_000))


def _booking(a: Agency) -> dict[str, Any]:
    n = next(_n)
    start = date(2027, 3, 1) + timedelta(days=3 * n)  # inside the plan's ARI horizon
    assert start < date(2027, 7, 1), "a one-night stay must stay before add_rates' season"
    return {
        "property_id": a.property_id,
        "check_in": start.isoformat(),
        "check_out": (start + timedelta(days=1)).isoformat(),
        "guest_id": a.guest_id,
    }


def _feed() -> dict[str, Any]:
    return {
        "url": f"https://calendar.example/{next(_n)}.ics",
        "name": "Listing",
        "source": "airbnb",
    }


def _block(a: Agency, kind: str) -> dict[str, Any]:
    n = next(_n)
    start = date(2033, 1, 1) + timedelta(days=3 * n)
    return {
        "property_id": a.property_id,
        "start": start.isoformat(),
        "end": (start + timedelta(days=1)).isoformat(),
        "kind": kind,
    }


def _code() -> str:
    return f"c{next(_n)}"


def _plan() -> dict[str, Any]:
    return {"name": f"Plan {next(_n)}", "base_price_minor": 9000}


def _season() -> dict[str, Any]:
    start = date(2028, 1, 1) + timedelta(days=3 * next(_n))
    return {
        "start": start.isoformat(),
        "end": (start + timedelta(days=2)).isoformat(),
        "price_minor": 12000,
    }


def _days() -> dict[str, Any]:
    return {"ranges": [{"start": "2027-10-01", "end": "2027-10-03", "closed_to_arrival": True}]}


def _quote(a: Agency) -> dict[str, Any]:
    return {"property_id": a.property_id, "check_in": "2027-07-01", "check_out": "2027-07-05"}


def _fee() -> dict[str, Any]:
    return {"code": _code(), "kind": "per_night", "currency": "EUR", "amount_minor": 500}


def _visitor_tax() -> dict[str, Any]:
    return {
        "name": f"Town {next(_n)}",
        "currency": "EUR",
        "amount_minor": 200,
        "child_age_limit": 14,
    }


def _policy() -> dict[str, Any]:
    return {"name": f"P{next(_n)}", "rules": [{"days_before": 30, "refund_percent": "50"}]}


def _path(template: str, a: Agency) -> str:
    return template.format(
        owned=a.owned_property_id,
        property=a.property_id,
        guest=a.guest_id,
        booking=a.booking_id,
        plan=a.rate_plan_id,
        season=a.season_id,
        tax_class=a.tax_class_id,
        fee=a.fee_id,
        visitor_tax=a.visitor_tax_id,
        policy=a.policy_id,
        feed=a.ical_feed_id,
        export=a.ical_export_id,
        alert=a.alert_id,
    )


@pytest.fixture
async def agency(client: httpx.AsyncClient) -> Agency:
    a = await add_rates(client, await full_agency(client))
    await ical_objects(client, a)
    return a


async def test_role_table(client: httpx.AsyncClient, agency: Agency) -> None:
    failures = []
    for method, template, body, allowed in CASES:
        for role in Role:
            r = await client.request(
                method,
                _path(template, agency),
                json=body(agency) if body else None,
                headers=agency.auth(role),
            )
            ok = r.status_code < 400
            if ok and method == "PATCH" and "{booking}" in template:
                agency.booking_version += 1
            if role in allowed and not ok:
                failures.append(f"{role} {method} {template}: {r.status_code} {r.text[:120]}")
            if role not in allowed and r.status_code not in (403, 404):
                failures.append(
                    f"{role} {method} {template}: expected 403/404, got {r.status_code}"
                )
    assert not failures, "\n".join(failures)


async def test_owner_lists_only_their_own_properties(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    r = await client.get("/api/v1/properties", headers=agency.auth(OW))
    assert [p["id"] for p in r.json()["items"]] == [agency.owned_property_id]
    r = await client.get("/api/v1/properties", headers=agency.auth(A))
    assert r.json()["total"] == 2


@pytest.mark.parametrize("role", [M, S, AC, OW])
async def test_only_admins_manage_the_team_or_erase_guests(
    client: httpx.AsyncClient, agency: Agency, role: Role
) -> None:
    h = agency.auth(role)
    assert (
        await client.patch(f"/api/v1/members/{agency.users[S]}", json={"role": "admin"}, headers=h)
    ).status_code == 403
    assert (await client.delete(f"/api/v1/members/{agency.users[S]}", headers=h)).status_code == 403
    assert (
        await client.post(f"/api/v1/guests/{agency.guest_id}/erase", headers=h)
    ).status_code == 403
    assert (
        await client.delete(f"/api/v1/properties/{agency.owned_property_id}", headers=h)
    ).status_code in ((204,) if role is M else (403,))


async def test_the_last_admin_cannot_be_removed_or_demoted(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    h = agency.auth(A)
    me = agency.users[A]
    r = await client.patch(f"/api/v1/members/{me}", json={"role": "staff"}, headers=h)
    assert r.status_code == 409
    assert r.json()["conflict_type"] == "last_admin"
    assert (await client.delete(f"/api/v1/members/{me}", headers=h)).status_code == 409
    # With a second admin, the first may step down.
    r = await client.patch(f"/api/v1/members/{agency.users[M]}", json={"role": "admin"}, headers=h)
    assert r.status_code == 200
    r = await client.patch(f"/api/v1/members/{me}", json={"role": "manager"}, headers=h)
    assert r.status_code == 200


async def test_a_user_in_two_agencies_chooses_with_x_agency_id(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    other = await full_agency(client, "Other")
    # Invite agency A's staff member into the other agency as manager.
    r = await client.post(
        "/api/v1/members",
        json={
            "email": (await client.get("/api/v1/me", headers=agency.auth(S))).json()["email"],
            "role": "manager",
        },
        headers=other.auth(A),
    )
    token = r.json()["token"]
    r = await client.post(
        "/api/v1/invitations/accept", json={"token": token}, headers=agency.auth(S)
    )
    assert r.status_code == 200, r.text
    h = agency.auth(S)
    r = await client.get("/api/v1/properties", headers=h)
    assert r.status_code == 400
    assert r.json()["type"] == "/problems/agency-required"
    r = await client.get("/api/v1/properties", headers={**h, "X-Agency-Id": other.id})
    assert r.status_code == 200
    assert {p["agency_id"] for p in r.json()["items"]} == {other.id}
    r = await client.get("/api/v1/properties", headers={**h, "X-Agency-Id": agency.id})
    assert r.status_code == 200
    assert {p["agency_id"] for p in r.json()["items"]} == {agency.id}
    # As a manager in the other agency and staff in the first: each request the role it names.
    r = await client.post(
        "/api/v1/properties", json=property_body(), headers={**h, "X-Agency-Id": other.id}
    )
    assert r.status_code == 201, r.text
    assert r.json()["agency_id"] == other.id
    r = await client.post(
        "/api/v1/properties", json=property_body(), headers={**h, "X-Agency-Id": agency.id}
    )
    assert r.status_code == 403, r.text
    r = await client.get("/api/v1/me", headers=h)
    assert {m["agency_id"] for m in r.json()["memberships"]} == {agency.id, other.id}
    r = await client.get("/api/v1/properties", headers={**h, "X-Agency-Id": str(uuid.uuid4())})
    assert r.status_code == 403


async def test_x_agency_id_is_checked_after_the_token(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    # Without a valid token the answer is 401, whatever the header says; with one, a header
    # that is not a UUID is a 422 naming it, and a well-formed one of another agency a 403.
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        r = await client.get("/api/v1/bookings", headers={**headers, "X-Agency-Id": "nope"})
        assert r.status_code == 401, r.text
    r = await client.get("/api/v1/bookings", headers={**agency.auth(S), "X-Agency-Id": "nope"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "X-Agency-Id"
    r = await client.get(
        "/api/v1/bookings", headers={**agency.auth(S), "X-Agency-Id": str(uuid.uuid4())}
    )
    assert r.status_code == 403
    r = await client.get("/api/v1/bookings", headers={**agency.auth(S), "X-Agency-Id": agency.id})
    assert r.status_code == 200
