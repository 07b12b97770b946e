"""Building blocks for API tests: agencies with a member of each role, properties, guests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from pms.core.permissions import Role

PASSWORD = "correct horse battery"


@dataclass
class Agency:
    id: str
    tokens: dict[Role, str] = field(default_factory=dict)
    users: dict[Role, str] = field(default_factory=dict)
    property_id: str = ""
    owned_property_id: str = ""
    guest_id: str = ""
    booking_id: str = ""
    booking_version: int = 1
    photo_id: str = ""
    block_id: str = ""
    # Set by add_rates:
    rate_plan_id: str = ""
    season_id: str = ""
    tax_class_id: str = ""
    fee_id: str = ""
    visitor_tax_id: str = ""
    policy_id: str = ""
    # Created only by tests that need them (tests.integration.ical.helpers.ical_objects).
    ical_export_id: str = ""
    ical_feed_id: str = ""
    alert_id: str = ""

    def auth(self, role: Role = Role.ADMIN) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


async def signup(client: httpx.AsyncClient, name: str = "Agency") -> tuple[str, str, str]:
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    r = await client.post(
        "/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "agency_name": name}
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return body["agency_id"], body["access_token"], body["user_id"]


async def add_member(client: httpx.AsyncClient, admin_token: str, role: Role) -> tuple[str, str]:
    email = f"{role.value}-{uuid.uuid4().hex[:8]}@example.com"
    h = {"Authorization": f"Bearer {admin_token}"}
    r = await client.post("/api/v1/members", json={"email": email, "role": role.value}, headers=h)
    assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/invitations/accept", json={"token": r.json()["token"], "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    return body["tokens"]["access_token"], body["user_id"]


def property_body(**extra: Any) -> dict[str, Any]:
    return {
        "name": f"Seaside {uuid.uuid4().hex[:6]}",
        "timezone": "Europe/Berlin",
        "currency": "EUR",
        "max_guests": 4,
        **extra,
    }


async def full_agency(client: httpx.AsyncClient, name: str = "Agency") -> Agency:
    """An agency with one member per role, a property, an owner's property, and a guest."""
    agency_id, admin_token, admin_id = await signup(client, name)
    a = Agency(id=agency_id)
    a.tokens[Role.ADMIN], a.users[Role.ADMIN] = admin_token, admin_id
    for role in (Role.MANAGER, Role.STAFF, Role.ACCOUNTANT, Role.OWNER):
        a.tokens[role], a.users[role] = await add_member(client, admin_token, role)
    r = await client.post("/api/v1/properties", json=property_body(), headers=a.auth())
    assert r.status_code == 201, r.text
    a.property_id = r.json()["id"]
    r = await client.post(
        "/api/v1/properties",
        json=property_body(owner_user_id=a.users[Role.OWNER]),
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    a.owned_property_id = r.json()["id"]
    r = await client.post(
        "/api/v1/guests",
        json={"email": f"g-{uuid.uuid4().hex[:6]}@example.com", "last_name": "Muster"},
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    a.guest_id = r.json()["id"]
    r = await client.post(
        "/api/v1/bookings",
        json={
            "property_id": a.property_id,
            "check_in": "2030-01-10",
            "check_out": "2030-01-12",
            "guest_id": a.guest_id,
        },
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    a.booking_id = r.json()["id"]
    r = await client.post(
        "/api/v1/blocks",
        json={"property_id": a.property_id, "start": "2030-02-01", "end": "2030-02-03"},
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    a.block_id = r.json()["id"]
    r = await client.post(
        f"/api/v1/properties/{a.property_id}/photos",
        files={"file": ("p.png", b"\x89PNG\r\n\x1a\n" + bytes(32), "image/png")},
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    a.photo_id = r.json()["id"]
    return a


async def add_rates(client: httpx.AsyncClient, a: Agency) -> Agency:
    """A rate plan with a season on the agency's property, and one of each pricing object,
    assigned to the property."""
    h = a.auth()

    async def post(path: str, body: dict[str, Any]) -> str:
        r = await client.post(path, json=body, headers=h)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    a.rate_plan_id = await post(
        f"/api/v1/properties/{a.property_id}/rate-plans",
        {"name": "Standard", "base_price_minor": 10000},
    )
    a.season_id = await post(
        f"/api/v1/rate-plans/{a.rate_plan_id}/seasons",
        {"start": "2027-07-01", "end": "2027-09-01", "price_minor": 15000, "min_stay": 3},
    )
    a.tax_class_id = await post(
        "/api/v1/tax-classes", {"code": "VAT19", "rate_percent": "19", "label": "VAT 19 %"}
    )
    a.fee_id = await post(
        "/api/v1/fees",
        {
            "code": "cleaning",
            "kind": "per_stay",
            "currency": "EUR",
            "amount_minor": 5000,
            "tax_class_id": a.tax_class_id,
        },
    )
    a.visitor_tax_id = await post(
        "/api/v1/visitor-taxes",
        {"name": "Sylt", "currency": "EUR", "amount_minor": 350, "child_age_limit": 16},
    )
    a.policy_id = await post(
        "/api/v1/cancellation-policies",
        {"name": "Flexible", "rules": [{"days_before": 14, "refund_percent": "100"}]},
    )
    r = await client.put(
        f"/api/v1/properties/{a.property_id}/pricing",
        json={
            "accommodation_tax_class_id": a.tax_class_id,
            "visitor_tax_location_id": a.visitor_tax_id,
            "cancellation_policy_id": a.policy_id,
            "fee_ids": [a.fee_id],
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    return a
