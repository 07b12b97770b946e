"""Which properties search offers and in what order: by total, or by distance then total (those
without a position last), then by name; a radius that includes its edge; the count of every
match beside a limited page; a location matched in the name or the city, literally."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from pms import db
from pms.core.dates import Stay
from pms.direct import search
from pms.direct.search import distance_km
from tests.factories import property_body, signup
from tests.integration.direct.engine import engine_agency, search_params, today

HAMBURG = (53.5511, 9.9937)
SYLT = (54.9079, 8.3105)
HERE = (53.55, 9.99)


def day(n: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=n)).isoformat()


async def listed_property(
    client: httpx.AsyncClient,
    h: dict[str, str],
    name: str,
    *,
    plan: dict[str, Any] | None = None,
    **fields: Any,
) -> str:
    """A property offered on the booking site with one rate plan (Standard at 100.00 a night
    unless ``plan`` says otherwise); its id."""
    body = property_body(name=name, **{"is_listed": True, **fields})
    r = await client.post("/api/v1/properties", json=body, headers=h)
    assert r.status_code == 201, r.text
    property_id = str(r.json()["id"])
    r = await client.post(
        f"/api/v1/properties/{property_id}/rate-plans",
        json=plan or {"name": "Standard", "base_price_minor": 10000},
        headers=h,
    )
    assert r.status_code == 201, r.text
    return property_id


async def test_search_ranks_by_total_or_distance_then_name(client: httpx.AsyncClient) -> None:
    _, token, _ = await signup(client)
    h = {"Authorization": f"Bearer {token}"}
    tag = uuid.uuid4().hex[:6]
    ids: dict[str, str] = {}
    for name, price, where, listed in (
        ("Dogwood", 10000, HAMBURG, True),
        ("Beech", 10000, None, True),
        ("Cedar", 8000, SYLT, True),
        ("Alder", 10000, HAMBURG, True),
        ("Elm", 100, HAMBURG, False),  # not listed: never offered
    ):
        position = {"latitude": str(where[0]), "longitude": str(where[1])} if where else {}
        ids[name] = await listed_property(
            client,
            h,
            f"{name} {tag}",
            plan={"name": "Standard", "base_price_minor": price},
            city="Hamburg",
            is_listed=listed,
            **position,
        )
    slug = (await client.get("/api/v1/agency", headers=h)).json()["slug"]

    async def found(**params: Any) -> tuple[int, list[tuple[str, int, float | None]]]:
        query = {"check_in": day(20), "check_out": day(22), "adults": 2, **params}
        r = await client.get(f"/api/v1/public/{slug}/search", params=query)
        assert r.status_code == 200, r.text
        body = r.json()
        names = {v: k for k, v in ids.items()}
        hits = [
            (names[hit["property"]["id"]], hit["total"]["amount_minor"], hit["distance_km"])
            for hit in body["results"]
        ]
        return body["count"], hits

    to_hamburg = round(distance_km(*HERE, *HAMBURG), 3)
    to_sylt = round(distance_km(*HERE, *SYLT), 3)
    # By total, then by name.
    assert await found() == (
        4,
        [
            ("Cedar", 16000, None),
            ("Alder", 20000, None),
            ("Beech", 20000, None),
            ("Dogwood", 20000, None),
        ],
    )
    # By distance, then total, then name; no position: last.
    lat, lng = HERE
    assert await found(lat=lat, lng=lng, sort="distance") == (
        4,
        [
            ("Alder", 20000, to_hamburg),
            ("Dogwood", 20000, to_hamburg),
            ("Cedar", 16000, to_sylt),
            ("Beech", 20000, None),
        ],
    )
    # A point without a radius, sorted by total: every property, distances shown.
    assert await found(lat=lat, lng=lng) == (
        4,
        [
            ("Cedar", 16000, to_sylt),
            ("Alder", 20000, to_hamburg),
            ("Beech", 20000, None),
            ("Dogwood", 20000, to_hamburg),
        ],
    )
    # The page is limited, the count is not.
    assert await found(limit=2) == (4, [("Cedar", 16000, None), ("Alder", 20000, None)])
    # A radius includes its edge and leaves out what has no position.
    edge = distance_km(*HERE, *SYLT)
    within = await found(lat=lat, lng=lng, radius_km=edge)
    assert [name for name, _, _ in within[1]] == ["Cedar", "Alder", "Dogwood"]
    closer = await found(lat=lat, lng=lng, radius_km=edge - 0.01)
    assert [name for name, _, _ in closer[1]] == ["Alder", "Dogwood"]
    # A location matches a name or a city, its wildcards literally.
    assert [n for n, _, _ in (await found(location=f"alder {tag}"))[1]] == ["Alder"]
    assert (await found(location="hamburg"))[0] == 4
    assert (await found(location="%"))[0] == 0
    assert (await found(location="Ald_r"))[0] == 0
    # A deleted property is not offered.
    r = await client.delete(f"/api/v1/properties/{ids['Alder']}", headers=h)
    assert r.status_code == 204, r.text
    count, hits = await found()
    assert (count, [name for name, _, _ in hits]) == (3, ["Cedar", "Beech", "Dogwood"])


async def test_each_property_is_priced_by_its_own_tariff_as_its_quote(
    client: httpx.AsyncClient,
) -> None:
    """Two properties at the same nightly price, one with fees, taxes and a visitor tax and one
    without: each result's total is its own quote's total (search prices each tariff once, so
    properties must share one only when their pricing is the same)."""
    e = await engine_agency(client)
    h = e.agency.auth()
    plain, taxed = [
        await listed_property(client, h, name, max_guests=4)
        for name in ("Plain Loft", "Taxed Loft")
    ]
    # VAT and the visitor tax, but no fee.
    r = await client.put(
        f"/api/v1/properties/{taxed}/pricing",
        json={
            "accommodation_tax_class_id": e.agency.tax_class_id,
            "visitor_tax_location_id": e.agency.visitor_tax_id,
            "fee_ids": [],
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    params = search_params(10, 13)
    r = await client.get(e.url("/search"), params=params)
    assert r.status_code == 200, r.text
    totals = {hit["property"]["id"]: hit["total"]["amount_minor"] for hit in r.json()["results"]}
    assert set(totals) == {e.property_id, plain, taxed}
    for property_id in (e.property_id, plain, taxed):
        q = await client.post(
            e.url("/quotes"),
            json={**params, "property_id": property_id},
        )
        assert q.status_code == 200, q.text
        assert q.json()["bookable"], q.text
        assert totals[property_id] == q.json()["total"]["amount_minor"]
    assert totals[plain] == 30000
    assert totals[e.property_id] > totals[taxed] > totals[plain]


async def test_a_tariff_that_cannot_be_built_leaves_out_only_its_own_properties(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """search.py: a tariff key whose pricing is inconsistent (here a fee in another currency
    than the property's, whose currency changed after the fee was assigned) is left out, and
    its properties are not offered; every other key is still priced, whichever comes first
    among the groups (their order is the statement's, which SQL does not fix, so `tariffs` is
    also asked with the groups in both orders)."""
    e = await engine_agency(client)
    h = e.agency.auth()
    made = {
        name: await listed_property(client, h, name, max_guests=4)
        for name in ("Plain Loft", "Odd Loft")
    }
    # The agency's cleaning fee, in euros, then the property's currency changed to dollars
    # (a property's currency may change; its fees stay until they are reassigned).
    r = await client.put(
        f"/api/v1/properties/{made['Odd Loft']}/pricing",
        json={"fee_ids": [e.agency.fee_id]},
        headers=h,
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"/api/v1/properties/{made['Odd Loft']}", json={"currency": "USD"}, headers=h
    )
    assert r.status_code == 200, r.text
    params = search_params(10, 13)
    r = await client.get(e.url("/search"), params=params)
    assert r.status_code == 200, r.text
    offered = {hit["property"]["id"] for hit in r.json()["results"]}
    assert offered == {e.property_id, made["Plain Loft"]}
    q = await client.post(e.url("/quotes"), json={**params, "property_id": made["Odd Loft"]})
    assert q.status_code == 409, q.text  # the quote refuses it as search leaves it out

    odd = uuid.UUID(made["Odd Loft"])
    stay = Stay(today() + timedelta(days=10), today() + timedelta(days=13))
    async with db.transaction(uuid.UUID(e.agency.id)) as session:
        groups = await search.candidates(session, uuid.UUID(e.agency.id), search.Filters(), stay, 2)
        bad = [g for g in groups if odd in g.ids]
        good = [g for g in groups if odd not in g.ids]
        assert len(bad) == 1
        assert good
        for ordered in (bad + good, good + bad):
            by_key = await search.tariffs(session, uuid.UUID(e.agency.id), ordered, 2)
            assert set(by_key) == {g.tariff_key for g in good}
    # And search itself, with the statement's groups in both orders.
    real = search.candidates
    for bad_first in (True, False):

        async def ordered_groups(*args: Any, first: bool = bad_first) -> list[search.Group]:
            groups = await real(*args)
            return sorted(groups, key=lambda g: (odd not in g.ids) if first else (odd in g.ids))

        monkeypatch.setattr(search, "candidates", ordered_groups)
        r = await client.get(e.url("/search"), params=params)
        assert {hit["property"]["id"] for hit in r.json()["results"]} == offered


async def test_a_property_with_several_rate_plans_is_offered_once_at_its_default_plans_price(
    client: httpx.AsyncClient,
) -> None:
    _, token, _ = await signup(client)
    h = {"Authorization": f"Bearer {token}"}
    property_id = await listed_property(client, h, "Linden")
    for name, price in (("Non-refundable", 7000), ("Flexible", 13000)):
        r = await client.post(
            f"/api/v1/properties/{property_id}/rate-plans",
            json={"name": name, "base_price_minor": price},
            headers=h,
        )
        assert r.status_code == 201, r.text
    slug = (await client.get("/api/v1/agency", headers=h)).json()["slug"]
    query = {"check_in": day(20), "check_out": day(22), "adults": 2}
    r = await client.get(f"/api/v1/public/{slug}/search", params=query)
    assert r.status_code == 200, r.text
    found = r.json()
    assert found["count"] == 1
    [hit] = found["results"]
    quote = await client.post(
        f"/api/v1/public/{slug}/quotes",
        json={"property_id": property_id, **query},
    )
    assert quote.status_code == 200, quote.text
    assert hit["property"]["id"] == property_id
    assert hit["total"] == quote.json()["total"]
    assert hit["total"]["amount"] == "200.00"  # two nights of the default plan (the first)


async def test_each_property_is_offered_once_when_several_have_fees(
    client: httpx.AsyncClient,
) -> None:
    """Fees are joined per property: with two properties holding fees and one without, each
    is offered once, at its own quote's total."""
    e = await engine_agency(client)  # its property has the agency's fee
    h = e.agency.auth()
    fee_loft, bare = [
        await listed_property(client, h, name, max_guests=4) for name in ("Fee Loft", "Bare Loft")
    ]
    r = await client.put(
        f"/api/v1/properties/{fee_loft}/pricing", json={"fee_ids": [e.agency.fee_id]}, headers=h
    )
    assert r.status_code == 200, r.text
    params = search_params(10, 13)
    r = await client.get(e.url("/search"), params=params)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert r.json()["count"] == 3
    assert sorted(hit["property"]["id"] for hit in results) == sorted(
        [e.property_id, fee_loft, bare]
    )
    for hit in results:
        q = await client.post(
            e.url("/quotes"), json={**params, "property_id": hit["property"]["id"]}
        )
        assert q.status_code == 200, q.text
        assert hit["total"] == q.json()["total"]


async def test_a_property_outside_its_booking_window_leaves_every_other_offered(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group of properties whose booking window refuses the stay is skipped, and the groups
    after it are still offered, in whichever order the statement returns them (SQL fixes
    none, so the test asks with the groups in both orders)."""
    e = await engine_agency(client)
    h = e.agency.auth()
    late = await listed_property(
        client,
        h,
        "Late Loft",
        plan={"name": "Standard", "base_price_minor": 10000, "min_lead_days": 60},
    )
    real = search.candidates
    for windowed_first in (True, False):

        async def ordered(*args: Any, first: bool = windowed_first) -> list[search.Group]:
            groups = await real(*args)
            return sorted(groups, key=lambda g: g.min_lead_days, reverse=first)

        monkeypatch.setattr(search, "candidates", ordered)
        r = await client.get(e.url("/search"), params=search_params(10, 13))
        assert r.status_code == 200, r.text
        assert [hit["property"]["id"] for hit in r.json()["results"]] == [e.property_id]
        r = await client.get(e.url("/search"), params=search_params(70, 73))
        assert sorted(hit["property"]["id"] for hit in r.json()["results"]) == sorted(
            [e.property_id, late]
        )


async def test_a_property_at_the_very_point_asked_for_comes_first_by_distance(
    client: httpx.AsyncClient,
) -> None:
    _, token, _ = await signup(client)
    h = {"Authorization": f"Bearer {token}"}
    ids = {}
    # On the point, and about 330 m north of it.
    for name, lat in (("On the point", HAMBURG[0]), ("Up the road", HAMBURG[0] + 0.003)):
        position = {"latitude": str(lat), "longitude": str(HAMBURG[1])}
        ids[await listed_property(client, h, name, **position)] = name
    slug = (await client.get("/api/v1/agency", headers=h)).json()["slug"]
    query = {"check_in": day(20), "check_out": day(22), "adults": 2, "sort": "distance"}
    r = await client.get(
        f"/api/v1/public/{slug}/search",
        params={**query, "lat": HAMBURG[0], "lng": HAMBURG[1]},
    )
    assert r.status_code == 200, r.text
    hits = r.json()["results"]
    assert [ids[hit["property"]["id"]] for hit in hits] == ["On the point", "Up the road"]
    assert hits[0]["distance_km"] == 0
    assert 0.3 < hits[1]["distance_km"] < 0.4
