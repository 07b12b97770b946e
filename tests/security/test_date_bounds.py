"""Finding 8: extreme dates (0001-01-01, 9999-12-30) gave 500s (OverflowError) or were stored.
Every date is bounded to 2000-01-01..2100-12-31 and every stay, block or window to 366 days,
by one validator (pms.schemas.dates); the 422 names the field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.direct.engine import Engine, engine_agency, today

FAR_PAST = "0001-01-01"
FAR_FUTURE = "9999-12-30"
JUST_BEFORE = "1999-12-31"
JUST_AFTER = "2101-01-01"


@pytest.fixture
async def e(client: httpx.AsyncClient) -> Engine:
    return await engine_agency(client)


def _fields(r: httpx.Response) -> list[str]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return [err["field"] for err in r.json()["errors"]]


def _ok_day(n: int = 30) -> str:
    return (today().fromordinal(today().toordinal() + n)).isoformat()


@pytest.mark.parametrize(
    ("check_in", "check_out", "field"),
    [
        (FAR_PAST, "0001-01-05", "check_in"),
        ("9999-12-25", FAR_FUTURE, "check_in"),
        (JUST_BEFORE, "2000-01-03", "check_in"),
        ("2100-12-30", JUST_AFTER, "check_out"),
    ],
)
async def test_extreme_dates_are_a_422_naming_the_field_everywhere(
    client: httpx.AsyncClient, e: Engine, check_in: str, check_out: str, field: str
) -> None:
    h = e.agency.auth()
    stay: dict[str, Any] = {
        "property_id": e.property_id,
        "check_in": check_in,
        "check_out": check_out,
        "adults": 2,
    }
    calls = [
        client.get(e.url("/search"), params={"check_in": check_in, "check_out": check_out}),
        client.post(e.url("/holds"), json=stay),
        client.post(e.url("/quotes"), json=stay),
        client.post("/api/v1/quotes", json=stay, headers=h),
        client.post("/api/v1/bookings", json={**stay, "guest_id": e.agency.guest_id}, headers=h),
    ]
    for call in calls:
        assert field in _fields(await call)
    window = {"start": check_in, "end": check_out}
    prop = f"/api/v1/properties/{e.property_id}"
    renamed = "start" if field == "check_in" else "end"
    for r in (
        await client.get(e.url(f"/properties/{e.property_id}/calendar"), params=window),
        await client.get("/api/v1/calendar", params=window, headers=h),
        await client.get(f"{prop}/availability", params=window, headers=h),
        await client.get(f"{prop}/ari", params=window, headers=h),
        await client.post(
            "/api/v1/blocks", json={"property_id": e.property_id, **window}, headers=h
        ),
    ):
        assert renamed in _fields(r)


async def test_a_stay_or_window_over_366_days_is_a_422_on_its_end(
    client: httpx.AsyncClient, e: Engine
) -> None:
    h = e.agency.auth()
    start, end = _ok_day(1), _ok_day(368)  # 367 nights
    stay = {"property_id": e.property_id, "check_in": start, "check_out": end}
    guest = e.agency.guest_id
    for r in (
        await client.get(e.url("/search"), params={"check_in": start, "check_out": end}),
        await client.post(e.url("/holds"), json=stay),
        await client.post("/api/v1/quotes", json=stay, headers=h),
        await client.post("/api/v1/bookings", json={**stay, "guest_id": guest}, headers=h),
    ):
        assert _fields(r) == ["check_out"]
    window = {"start": start, "end": end}
    for r in (
        await client.get(e.url(f"/properties/{e.property_id}/calendar"), params=window),
        await client.get("/api/v1/calendar", params=window, headers=h),
        await client.post(
            "/api/v1/blocks", json={"property_id": e.property_id, **window}, headers=h
        ),
    ):
        assert _fields(r) == ["end"]
    # A reversed range names the end as well.
    r = await client.get(e.url("/search"), params={"check_in": end, "check_out": start})
    assert _fields(r) == ["check_out"]
    assert "must be after check_in" in r.json()["errors"][0]["message"]


async def test_the_bounds_themselves_are_accepted(client: httpx.AsyncClient, e: Engine) -> None:
    h = e.agency.auth()
    r = await client.post(
        "/api/v1/blocks",
        json={"property_id": e.property_id, "start": "2100-12-01", "end": "2100-12-31"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    r = await client.get(
        "/api/v1/calendar", params={"start": "2000-01-01", "end": "2000-12-31"}, headers=h
    )
    assert r.status_code == 200, r.text
