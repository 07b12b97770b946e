"""Set-up shared by the booking engine tests: an agency with rates, a listed property with a
location, and dates relative to today (the ARI rows reach 24 months ahead)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from tests.factories import Agency, add_rates, full_agency

GUEST = {"email": "lena@example.com", "first_name": "Lena", "last_name": "Vogel", "language": "en"}


def today() -> date:
    return datetime.now(UTC).date()


def day(n: int) -> str:
    """`n` days from today (well before the 2027 summer season of `add_rates` for small n)."""
    return (today() + timedelta(days=n)).isoformat()


@dataclass
class Engine:
    agency: Agency
    slug: str
    property_id: str
    policy_id: str

    def url(self, path: str) -> str:
        return f"/api/v1/public/{self.slug}{path}"


async def engine_agency(client: httpx.AsyncClient, name: str = "Sylt Stays") -> Engine:
    """A listed property in Westerland with rates (base 100.00, cleaning 50.00 + VAT, visitor
    tax) and a policy: 100 % back up to 30 days before arrival, 50 % up to 7 days, then none."""
    a = await add_rates(client, await full_agency(client, name))
    h = a.auth()
    r = await client.patch(
        f"/api/v1/properties/{a.property_id}",
        json={
            "is_listed": True,
            "city": "Westerland",
            "latitude": "54.9079",
            "longitude": "8.3105",
            "bedrooms": 2,
            "amenities": ["wifi", "sauna"],
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        "/api/v1/cancellation-policies",
        json={
            "name": "Moderate",
            "rules": [
                {"days_before": 30, "refund_percent": "100"},
                {"days_before": 7, "refund_percent": "50"},
            ],
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    policy_id = r.json()["id"]
    r = await client.put(
        f"/api/v1/properties/{a.property_id}/pricing",
        json={
            "accommodation_tax_class_id": a.tax_class_id,
            "visitor_tax_location_id": a.visitor_tax_id,
            "cancellation_policy_id": policy_id,
            "fee_ids": [a.fee_id],
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    slug = str((await client.get("/api/v1/agency", headers=h)).json()["slug"])
    return Engine(a, slug, a.property_id, policy_id)


def stay(e: Engine, start: int, end: int, **extra: Any) -> dict[str, Any]:
    return {
        "property_id": e.property_id,
        "check_in": day(start),
        "check_out": day(end),
        "adults": 2,
        **extra,
    }


def search_params(start: int, end: int, **extra: Any) -> dict[str, Any]:
    return {"check_in": day(start), "check_out": day(end), "adults": 2, **extra}
