"""Google Vacation Rentals over real HTTP with the simulator: the Hotel List Feed (a listing
missing a required field is a fidelity warning), Property Data, and the ARI push: Google's
Master restriction is closed by default, so the nights we opened are sellable and nights we
never opened are not; the price Google shows for a stay is our public quote for it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx

from tests.integration.channel.helpers import core_ari, priced_agency, window
from tests.sandbox.conftest import Served
from tests.services import Worker, eventually

PARTNER = "pms_partner_key"


async def sim_days(
    sandbox: httpx.AsyncClient, listing: str, start: Any, end: Any
) -> dict[str, dict[str, Any]]:
    r = await sandbox.get(
        f"/control/google/listings/{listing}/days",
        params={"start": start.isoformat(), "end": (end - timedelta(days=1)).isoformat()},
    )
    r.raise_for_status()
    return {d["date"]: d for d in r.json() if d["rate_plan_id"] == "standard"}


async def test_list_feed_property_data_and_ari_open_only_what_we_sell(
    api: httpx.AsyncClient, sandbox_server: Served, relay: Worker, worker: Worker
) -> None:
    sandbox = httpx.AsyncClient(base_url=sandbox_server.url, timeout=30)
    (await sandbox.post("/control/reset")).raise_for_status()
    listing, incomplete = f"vr-{uuid.uuid4().hex[:6]}", f"vr-{uuid.uuid4().hex[:6]}"
    for x in (listing, incomplete):
        r = await sandbox.put(f"/control/google/properties/{x}", json={"partner": PARTNER})
        r.raise_for_status()
    a = await priced_agency(api, "Google")
    h = a.auth()
    r = await api.patch(
        f"/api/v1/properties/{a.property_id}",
        json={
            "is_listed": True,
            "address_line1": "Strandstraße 1",
            "city": "Westerland",
            "postal_code": "25980",
            "country": "DE",
            "latitude": "54.9079",
            "longitude": "8.3105",
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    # A second property, unlisted and without coordinates or address, with a rate plan.
    r = await api.post(
        f"/api/v1/properties/{a.owned_property_id}/rate-plans",
        json={"name": "Standard", "base_price_minor": 9000},
        headers=h,
    )
    assert r.status_code == 201, r.text
    start, end = window()
    block_start = start + timedelta(days=10)
    r = await api.post(
        "/api/v1/blocks",
        json={
            "property_id": a.property_id,
            "start": block_start.isoformat(),
            "end": (block_start + timedelta(days=2)).isoformat(),
        },
        headers=h,
    )
    assert r.status_code == 201, r.text

    r = await api.post(
        "/api/v1/channel-connections",
        json={
            "platform": "google",
            "credentials": {"partner_key": PARTNER, "listings": f"{listing},{incomplete}"},
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    for remote, prop in ((listing, a.property_id), (incomplete, a.owned_property_id)):
        r = await api.post(
            f"/api/v1/channel-connections/{cid}/mappings",
            json={"remote_listing_id": remote, "property_id": prop},
            headers=h,
        )
        assert r.status_code == 201, r.text

    # The list feed: the complete listing with its landing page; the other one is a warning.
    r = await api.get(f"/api/v1/channel-connections/{cid}/google/listing-feed", headers=h)
    assert r.status_code == 200, r.text
    feed = r.json()
    assert feed["listings"] == 1
    assert f"<id>{listing}</id>" in feed["feed"]
    assert f"<id>{incomplete}</id>" not in feed["feed"]
    [warning] = feed["warnings"]
    assert warning["listing_id"] == incomplete
    assert {"latitude", "longitude", "address", "website"} <= set(warning["missing"])
    slug = str((await api.get("/api/v1/agency", headers=h)).json()["slug"])
    page = f"http://127.0.0.1:3000/{slug}/properties/{a.property_id}"
    assert f"<website>{page}</website>" in feed["feed"]
    template = feed["landing_page_template"]
    assert template.startswith(f"{api.base_url}/api/v1/public/{slug}/google/(PARTNER-HOTEL-ID)?")
    assert "check_in=(CHECKINYEAR)-(CHECKINMONTH)-(CHECKINDAY)" in template

    # Property Data: the listing is its one room, with its capacity.
    r = await api.post(
        f"/api/v1/channel-connections/{cid}/google/property-data",
        headers={**h, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 200, r.text
    assert sorted(r.json()["pushed"]) == sorted([listing, incomplete])
    held = (await sandbox.get(f"/control/google/properties/{listing}")).json()
    assert held["rooms"][listing]["capacity"] == "4"
    assert held["packages"] == ["standard"]

    # The full sync opens every sellable night and closes the others explicitly.
    core = await core_ari(api, a, start, end)

    async def in_step() -> bool:
        shown = await sim_days(sandbox, listing, start, end)
        return all(
            d["date"] in shown
            and shown[d["date"]]["available"] == d["available"]
            and Decimal(shown[d["date"]]["price"]) == Decimal(d["price"]["amount"])
            and shown[d["date"]]["min_stay"] == d["min_stay"]
            for d in core
        )

    await eventually(in_step, 90, "Google to show Core's ARI")
    shown = await sim_days(sandbox, listing, start, end)
    assert shown[block_start.isoformat()]["available"] is False
    assert shown[(start + timedelta(days=5)).isoformat()]["available"] is True
    assert shown[(start + timedelta(days=5)).isoformat()]["price_before_tax"] is not None
    # Nights past our window were never opened: Google does not sell them.
    beyond = await sandbox.get(
        f"/control/google/listings/{listing}/days",
        params={
            "start": (end + timedelta(days=5)).isoformat(),
            "end": (end + timedelta(days=8)).isoformat(),
        },
    )
    assert beyond.status_code == 200
    assert not any(d["available"] for d in beyond.json())
    # And the nights we do not sell are closed explicitly: with the account's default availability
    # "open", they stay closed.
    r = await sandbox.put("/control/google/config", json={"default_availability": "open"})
    r.raise_for_status()
    shown = await sim_days(sandbox, listing, start, end)
    assert shown[block_start.isoformat()]["available"] is False
    assert sum(not d["available"] for d in shown.values()) == sum(not d["available"] for d in core)

    # The price Google shows for a stay is our public quote for it (the landing page's price).
    check_in, check_out = start + timedelta(days=20), start + timedelta(days=23)
    stay_prices = [
        Decimal(shown[(check_in + timedelta(days=i)).isoformat()]["price"]) for i in range(3)
    ]
    r = await api.post(
        f"/api/v1/public/{slug}/quotes",
        json={
            "property_id": a.property_id,
            "check_in": check_in.isoformat(),
            "check_out": check_out.isoformat(),
            "adults": 2,
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["bookable"] is True
    assert sum(stay_prices) == Decimal(r.json()["total"]["amount"])

    # Google fills in the template: its hotel id (our listing id), the stay, the adults. The
    # guest lands on the property's page on the booking site with that stay.
    landing = (
        template.replace("(PARTNER-HOTEL-ID)", listing)
        .replace("(CHECKINYEAR)-(CHECKINMONTH)-(CHECKINDAY)", check_in.isoformat())
        .replace("(CHECKOUTYEAR)-(CHECKOUTMONTH)-(CHECKOUTDAY)", check_out.isoformat())
        .replace("(NUM-ADULTS)", "2")
    )
    r = await api.get(landing)
    assert r.status_code == 302, r.text
    assert r.headers["location"] == (
        f"{page}?check_in={check_in.isoformat()}&check_out={check_out.isoformat()}&adults=2"
    )
    # Without a stay: the property's page. The unlisted, incomplete listing, an unknown one
    # and another agency's slug are 404s; a stay that ends before it begins is a 422.
    r = await api.get(landing.split("?")[0])
    assert (r.status_code, r.headers.get("location")) == (302, page)
    for missing in (
        landing.replace(listing, incomplete),
        landing.replace(listing, "no-such-listing"),
        landing.replace(f"/public/{slug}/", "/public/no-such-agency/"),
    ):
        r = await api.get(missing)
        assert r.status_code == 404, (missing, r.text)
    backwards = f"check_in={check_out.isoformat()}&check_out={check_in.isoformat()}&adults=2"
    r = await api.get(f"{landing.split('?')[0]}?{backwards}")
    assert r.status_code == 422, r.text


async def test_google_routes_refuse_other_platforms_and_bad_credentials(
    api: httpx.AsyncClient,
) -> None:
    a = await priced_agency(api, "Google bad")
    h = a.auth()
    r = await api.post(
        "/api/v1/channel-connections",
        json={"platform": "google", "credentials": {"partner_key": PARTNER, "listings": ""}},
        headers=h,
    )
    assert r.status_code == 422, r.text
    r = await api.post(
        "/api/v1/channel-connections",
        json={"platform": "google", "authorization_code": "abc"},
        headers=h,
    )
    assert r.status_code == 422, r.text
    r = await api.get(f"/api/v1/channel-connections/{uuid.uuid4()}/google/listing-feed", headers=h)
    assert r.status_code == 404
