"""The public Direct Booking Engine: listed properties, photos, holds, checkout, self-service,
CORS and abuse limits."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from icalendar import Calendar

from pms.core.permissions import Role
from tests.factories import Agency, full_agency

D = date(2031, 9, 1)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def day(n: int) -> str:
    return (D + timedelta(days=n)).isoformat()


@pytest.fixture
async def agency(client: httpx.AsyncClient) -> Agency:
    a = await full_agency(client, "Sunny Stays")
    r = await client.patch(
        f"/api/v1/properties/{a.property_id}",
        json={"is_listed": True, "amenities": ["wifi", "sauna"]},
        headers=a.auth(),
    )
    assert r.status_code == 200, r.text
    return a


async def slug(client: httpx.AsyncClient, a: Agency) -> str:
    return str((await client.get("/api/v1/agency", headers=a.auth())).json()["slug"])


def stay(a: Agency, start: int, end: int, **extra: Any) -> dict[str, Any]:
    return {
        "property_id": a.property_id,
        "check_in": day(start),
        "check_out": day(end),
        "adults": 2,
        **extra,
    }


GUEST = {"email": "lena@example.com", "first_name": "Lena", "last_name": "Vogel", "language": "de"}


async def test_only_listed_live_properties_are_public(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    s = await slug(client, agency)
    r = await client.get(f"/api/v1/public/{s}/properties")
    assert r.status_code == 200
    props = r.json()
    assert [p["id"] for p in props] == [agency.property_id]
    assert props[0]["amenities"] == ["wifi", "sauna"]
    r = await client.get(f"/api/v1/public/{s}/properties/{agency.owned_property_id}")
    assert r.status_code == 404
    assert (await client.get("/api/v1/public/no-such-agency/properties")).status_code == 404
    r = await client.get(f"/api/v1/public/{s}")
    assert r.json() == {"slug": s, "name": "Sunny Stays"}
    assert (await client.get("/api/v1/public/no-such-agency")).status_code == 404


async def test_photos_are_checked_by_content_and_served_publicly(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    url = f"/api/v1/properties/{agency.property_id}/photos"
    r = await client.post(url, files={"file": ("x.png", PNG, "image/png")}, headers=agency.auth())
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == "image/png"
    uploaded = r.json()["id"]
    fake = await client.post(
        url, files={"file": ("x.jpg", b"<?php evil ?>", "image/jpeg")}, headers=agency.auth()
    )
    assert fake.status_code == 422
    big = await client.post(
        url,
        files={"file": ("b.png", PNG + b"\x00" * (5 * 1024 * 1024), "image/png")},
        headers=agency.auth(),
    )
    assert big.status_code == 422
    s = await slug(client, agency)
    listed = (await client.get(f"/api/v1/public/{s}/properties/{agency.property_id}")).json()
    photo = next(p for p in listed["photos"] if p["id"] == uploaded)
    r = await client.get(photo["url"].replace("http://127.0.0.1:8000", ""))
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    assert r.content == PNG


async def test_photos_are_reordered_and_served_publicly_in_that_order(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    url = f"/api/v1/properties/{agency.property_id}/photos"
    for caption in ("a", "b", "c"):
        r = await client.post(
            url,
            files={"file": ("x.png", PNG, "image/png")},
            data={"caption": caption},
            headers=agency.auth(),
        )
        assert r.status_code == 201, r.text
    # Deleting one and adding another keeps positions distinct (the new one comes last).
    listed = (await client.get(url, headers=agency.auth())).json()
    r = await client.delete(f"{url}/{listed[0]['id']}", headers=agency.auth())
    assert r.status_code == 204
    r = await client.post(
        url,
        files={"file": ("x.png", PNG, "image/png")},
        data={"caption": "d"},
        headers=agency.auth(),
    )
    now = (await client.get(url, headers=agency.auth())).json()
    ids = [p["id"] for p in now]
    assert ids == [*(p["id"] for p in listed[1:]), r.json()["id"]]
    assert len({p["position"] for p in now}) == len(now)
    wanted = list(reversed(ids))
    r = await client.put(f"{url}/order", json={"photo_ids": wanted}, headers=agency.auth())
    assert r.status_code == 200, r.text
    assert [p["id"] for p in r.json()] == wanted
    assert [p["position"] for p in r.json()] == list(range(len(wanted)))
    s = await slug(client, agency)
    public = (await client.get(f"/api/v1/public/{s}/properties/{agency.property_id}")).json()
    assert [p["id"] for p in public["photos"]] == wanted
    assert [p["caption"] for p in public["photos"]][:3] == ["d", "c", "b"]
    # A search result shows the same photos, in the same order (read with the page's rows).
    r = await client.post(
        f"/api/v1/properties/{agency.property_id}/rate-plans",
        json={"name": "Standard", "base_price_minor": 10000},
        headers=agency.auth(),
    )
    assert r.status_code == 201, r.text
    check_in = datetime.now(UTC).date() + timedelta(days=20)
    r = await client.get(
        f"/api/v1/public/{s}/search",
        params={"check_in": str(check_in), "check_out": str(check_in + timedelta(days=2))},
    )
    assert r.status_code == 200, r.text
    (hit,) = [h for h in r.json()["results"] if h["property"]["id"] == str(agency.property_id)]
    assert hit["property"]["photos"] == public["photos"]
    # A missing, a repeated or a foreign id is refused and changes nothing.
    for bad in (wanted[:2], [*wanted[:2], wanted[0]], [*wanted[:2], str(uuid.uuid4())]):
        r = await client.put(f"{url}/order", json={"photo_ids": bad}, headers=agency.auth())
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "photo_ids"
    assert [p["id"] for p in (await client.get(url, headers=agency.auth())).json()] == wanted
    # Staff see the photos but may not reorder them.
    r = await client.put(f"{url}/order", json={"photo_ids": ids}, headers=agency.auth(Role.STAFF))
    assert r.status_code == 403, r.text


async def test_hold_book_view_ics_cancel_frees_the_dates(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    s = await slug(client, agency)
    r = await client.post(f"/api/v1/public/{s}/holds", json=stay(agency, 0, 3))
    assert r.status_code == 201, r.text
    hold = r.json()
    # While held, staff see the nights as a hold.
    avail = await client.get(
        f"/api/v1/properties/{agency.property_id}/availability?start={day(0)}&end={day(3)}",
        headers=agency.auth(),
    )
    assert {d["status"] for d in avail.json()["days"]} == {"hold"}
    r = await client.post(
        f"/api/v1/public/{s}/bookings",
        json={"hold_token": hold["hold_token"], "guest": GUEST, "accepted_terms": True},
    )
    assert r.status_code == 201, r.text
    booking = r.json()
    assert booking["status"] == "confirmed"
    assert booking["guest_name"] == "Lena Vogel"
    link = booking["manage_url"].replace("http://127.0.0.1:8000", "")
    # The hold token is spent.
    again = await client.post(
        f"/api/v1/public/{s}/bookings",
        json={"hold_token": hold["hold_token"], "guest": GUEST, "accepted_terms": True},
    )
    assert again.status_code == 409
    view = await client.get(link)
    assert view.json()["reference"] == booking["reference"]
    ics = await client.get(f"{link}/calendar.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    event = next(c for c in Calendar.from_ical(ics.content).walk("VEVENT"))
    assert event["DTSTART"].dt == D
    r = await client.post(f"{link}/cancel")
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled"
    assert (
        await client.post(f"/api/v1/public/{s}/holds", json=stay(agency, 1, 2))
    ).status_code == 201


async def test_request_to_book_properties_take_requests(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    await client.patch(
        f"/api/v1/properties/{agency.property_id}",
        json={"instant_book": False},
        headers=agency.auth(),
    )
    s = await slug(client, agency)
    hold = (await client.post(f"/api/v1/public/{s}/holds", json=stay(agency, 5, 7))).json()
    r = await client.post(
        f"/api/v1/public/{s}/bookings",
        json={"hold_token": hold["hold_token"], "guest": GUEST, "accepted_terms": True},
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "requested"
    listed = await client.get("/api/v1/bookings?status=requested", headers=agency.auth())
    assert [b["reference"] for b in listed.json()["items"]] == [r.json()["reference"]]


async def test_twenty_guests_holding_the_same_dates_get_one_hold(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    s = await slug(client, agency)
    await client.post(f"/api/v1/public/{s}/holds", json=stay(agency, 13, 15))  # later stay
    results = await asyncio.gather(
        *(client.post(f"/api/v1/public/{s}/holds", json=stay(agency, 10, 13)) for _ in range(20))
    )
    codes = sorted(r.status_code for r in results)
    assert codes.count(201) == 1, codes
    assert codes.count(409) == 19, codes
    refused = next(r.json() for r in results if r.status_code == 409)
    # 10-13 is held and 13-15 too: the next 3 free nights start on day 15.
    assert refused["next_available"] == {"check_in": day(15), "check_out": day(18)}


async def test_the_honeypot_and_terms_are_enforced(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    s = await slug(client, agency)
    r = await client.post(
        f"/api/v1/public/{s}/holds", json=stay(agency, 20, 22, website="http://spam.example")
    )
    assert r.status_code == 400
    hold = (await client.post(f"/api/v1/public/{s}/holds", json=stay(agency, 20, 22))).json()
    r = await client.post(
        f"/api/v1/public/{s}/bookings",
        json={"hold_token": hold["hold_token"], "guest": GUEST, "accepted_terms": False},
    )
    assert r.status_code == 422


async def test_cors_allows_only_the_agencys_origins(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    r = await client.patch(
        "/api/v1/agency", json={"public_origins": ["https://sunny.example"]}, headers=agency.auth()
    )
    assert r.status_code == 200, r.text
    s = await slug(client, agency)
    url = f"/api/v1/public/{s}/properties"
    pre = {"Access-Control-Request-Method": "POST"}
    ok = await client.options(url, headers={"Origin": "https://sunny.example", **pre})
    assert ok.headers["access-control-allow-origin"] == "https://sunny.example"
    bad = await client.options(url, headers={"Origin": "https://evil.example", **pre})
    assert "access-control-allow-origin" not in bad.headers
    r = await client.get(url, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


async def test_public_endpoints_are_rate_limited_per_ip(
    client: httpx.AsyncClient, agency: Agency, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pms.settings import reset_settings_cache

    monkeypatch.setenv("PUBLIC_REQUESTS_PER_MINUTE_PER_IP", "5")
    reset_settings_cache()
    s = await slug(client, agency)
    codes = [(await client.get(f"/api/v1/public/{s}/properties")).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    r = await client.get(f"/api/v1/public/{s}/properties")
    assert int(r.headers["retry-after"]) >= 1


async def test_reserved_words_never_become_slugs(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/auth/signup",
        json={"email": "b@example.com", "password": "long enough pw", "agency_name": "Bookings"},
    )
    token = r.json()["access_token"]
    me = (await client.get("/api/v1/agency", headers={"Authorization": f"Bearer {token}"})).json()
    assert me["slug"] == "bookings-agency"
    # Nor the team app's pages, whose paths sit beside the booking site's /{slug}.
    r = await client.post(
        "/api/v1/auth/signup",
        json={"email": "c@example.com", "password": "long enough pw", "agency_name": "Calendar"},
    )
    token = r.json()["access_token"]
    me = (await client.get("/api/v1/agency", headers={"Authorization": f"Bearer {token}"})).json()
    assert me["slug"] == "calendar-agency"


async def test_an_upload_with_an_idempotency_key_is_stored_once_and_replayed(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    """The web app sends an Idempotency-Key on every POST, uploads included (a form FastAPI
    has parsed before the key is claimed)."""
    url = f"/api/v1/properties/{agency.property_id}/photos"
    before = [p["id"] for p in (await client.get(url, headers=agency.auth())).json()]
    h = {**agency.auth(), "Idempotency-Key": "upload-1"}
    first = await client.post(
        url, files={"file": ("x.png", PNG, "image/png")}, data={"caption": "See"}, headers=h
    )
    assert first.status_code == 201, first.text
    again = await client.post(
        url, files={"file": ("x.png", PNG, "image/png")}, data={"caption": "See"}, headers=h
    )
    assert again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    other = await client.post(
        url, files={"file": ("y.png", PNG, "image/png")}, data={"caption": "Berg"}, headers=h
    )
    assert other.status_code == 422, other.text  # the same key for another upload
    listed = await client.get(url, headers=agency.auth())
    assert [p["id"] for p in listed.json()] == [*before, first.json()["id"]]
