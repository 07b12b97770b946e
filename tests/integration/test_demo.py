"""The demo data prices its properties: a quote for the Seaside Loft has every part."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from pms import demo
from pms.settings import Settings


async def test_demo_properties_are_priced_end_to_end(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    assert (await demo._seed())[0].startswith("demo data: agency")
    assert (await demo._seed())[0] == "demo data: already loaded"
    r = await client.post(
        "/api/v1/auth/login", json={"email": demo.DEMO_EMAIL, "password": demo.DEMO_PASSWORD}
    )
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    props = (await client.get("/api/v1/properties", headers=h)).json()["items"]
    loft = next(p for p in props if p["name"] == "Seaside Loft")
    check_in = datetime.now(UTC).date() + timedelta(days=20)
    r = await client.post(
        "/api/v1/quotes",
        json={
            "property_id": loft["id"],
            "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=7)).isoformat(),
            "adults": 2,
            "children_ages": [4],
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    q = r.json()
    kinds = {line["kind"] for line in q["lines"]}
    assert kinds == {"night", "discount", "fee", "vat", "visitor_tax"}
    assert q["bookable"]
    assert len(q["cancellation"]) == 3
    assert {t["tax_class"] for t in q["taxes"]} == {"VAT7", "VAT19"}
