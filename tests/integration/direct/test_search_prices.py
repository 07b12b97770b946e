"""The "from" price of a listed property (``search.from_prices``): the lowest nightly price of an
open night of its default plan in the 12 months from today, and the date picker of a property
without rates."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from pms import db
from pms.core.ari_store import local_today
from pms.direct import search
from tests.factories import property_body, signup


def at(n: int) -> date:
    return datetime.now(UTC).date() + timedelta(days=n)


async def test_the_from_price_is_the_cheapest_open_night_of_the_default_plan_in_a_year(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    agency_id, token, _ = await signup(client)
    h = {"Authorization": f"Bearer {token}"}
    ids = []
    for _ in range(2):
        r = await client.post("/api/v1/properties", json=property_body(is_listed=True), headers=h)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    prop, other = ids
    r = await client.post(
        f"/api/v1/properties/{prop}/rate-plans",
        json={"name": "Standard", "base_price_minor": 10000, "max_advance_days": 30},
        headers=h,
    )
    assert r.status_code == 201, r.text
    plan = r.json()["id"]
    # A cheaper plan that is not the default, and a cheaper property: neither counts.
    r = await client.post(
        f"/api/v1/properties/{prop}/rate-plans",
        json={"name": "Members", "base_price_minor": 100, "is_default": False},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert not r.json()["is_default"]
    r = await client.post(
        f"/api/v1/properties/{other}/rate-plans",
        json={"name": "Standard", "base_price_minor": 200},
        headers=h,
    )
    assert r.status_code == 201, r.text
    other_plan = r.json()["id"]
    start = 3  # the day the year is counted from

    def price(n: int, minor: int, **more: object) -> dict[str, object]:
        return {"start": at(n).isoformat(), "end": at(n + 1).isoformat(), "price": minor, **more}

    r = await client.put(
        f"/api/v1/rate-plans/{plan}/days",
        json={
            "ranges": [
                price(start - 1, 7000),  # the day before: not in the year
                price(start, 9500),
                price(start + 10, 5000, closed=True),  # closed: no price to start from
                price(start + 364, 9000),  # the year's last day
                price(start + 365, 6000),  # the day after it
            ]
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    p = uuid.UUID(prop)
    async with db.transaction(uuid.UUID(agency_id)) as session:
        assert await search.from_prices(session, [p], today=at(start)) == {p: 9000}
        assert await search.from_prices(session, [p], today=at(start - 1)) == {p: 7000}
        assert await search.from_prices(session, [p], today=at(start + 1)) == {p: 6000}
        # Without a date: the year from today (UTC).
        assert await search.from_prices(session, [p]) == {p: 7000}
        both = await search.from_prices(session, [p, uuid.UUID(other)], today=at(start))
        assert both == {p: 9000, uuid.UUID(other): 200}
        assert await search.from_prices(session, []) == {}
    # "Today" is UTC's, whatever the server's time zone: in a zone whose date is not UTC's
    # (12 hours behind before noon UTC, 14 ahead after), the year still starts at UTC's date.
    now = datetime.now(UTC)
    # Behind, the year's last day counts; ahead, the day after it does not. (Ahead, not the
    # year's first day: from 23:00 UTC that day is already past in the property's own zone,
    # Europe/Berlin, so its plan has no row for it.)
    zone, cheap, expected = ("Etc/GMT+12", 364, 150) if now.hour < 12 else ("Etc/GMT-14", 365, 200)
    r = await client.put(
        f"/api/v1/rate-plans/{other_plan}/days",
        json={"ranges": [price(cheap, 150)]},
        headers=h,
    )
    assert r.status_code == 200, r.text
    o = uuid.UUID(other)
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        assert datetime.now().date() != now.date()  # noqa: DTZ005 - the local date, on purpose
        async with db.transaction(uuid.UUID(agency_id)) as session:
            assert await search.from_prices(session, [o]) == {o: expected}
    finally:
        monkeypatch.undo()
        time.tzset()
    # The public date picker shows the default plan's days: its price, its booking window (at
    # most 30 days ahead, from the property's today), and a first day that may end a stay
    # when the night before it is open.
    slug = (await client.get("/api/v1/agency", headers=h)).json()["slug"]
    local = local_today("Europe/Berlin")

    def near(n: int) -> str:
        return (local + timedelta(days=n)).isoformat()

    r = await client.get(
        f"/api/v1/public/{slug}/properties/{prop}/calendar",
        params={"start": near(28), "end": near(33)},
    )
    assert r.status_code == 200, r.text
    picker = {d["date"]: d for d in r.json()["days"]}
    assert [picker[near(n)]["price_minor"] for n in range(28, 33)] == [10000] * 5
    assert [picker[near(n)]["can_check_in"] for n in range(28, 33)] == [True] * 3 + [False] * 2
    assert picker[near(28)]["can_check_out"]
    # The public date picker of a listed property without rates: a 404, not an empty calendar.
    r = await client.post("/api/v1/properties", json=property_body(is_listed=True), headers=h)
    bare = r.json()["id"]
    r = await client.get(
        f"/api/v1/public/{slug}/properties/{bare}/calendar",
        params={"start": at(1).isoformat(), "end": at(5).isoformat()},
    )
    assert r.status_code == 404, r.text
    assert r.json()["detail"] == "This property has no rates yet."
