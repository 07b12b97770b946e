"""The Direct Booking Engine end to end over real HTTP: search → calendar → quote → hold → book
(offline) → the e-mail at the SMTP sink → the self-service link in it → cancel → refund per
policy → the dates free again. Plus search filters, the calendar's rules and holds refused for
restrictions."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pms.direct.smtp_sink import ReceivedMail, SmtpSink
from pms.embedded.process import free_port
from pms.settings import Settings, get_settings, reset_settings_cache
from tests.integration.direct.conftest import eventually
from tests.integration.direct.engine import (
    GUEST,
    day,
    engine_agency,
    search_params,
    stay,
)
from tests.services import Worker, run_relay, run_worker


@pytest.fixture
async def smtp_port(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> int:
    port = free_port()
    for key, value in {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "EMAIL_RETRY_BASE_SECONDS": "0.3",
        "EMAIL_RETRY_MAX_SECONDS": "1",
        "MAIL_FROM": "Sylt Stays <bookings@agency.example>",
    }.items():
        monkeypatch.setenv(key, value)
    reset_settings_cache()
    assert get_settings().smtp_port == port
    return port


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith(("SMTP_", "EMAIL_", "MAIL_"))}
    env.update({k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL", "ENVIRONMENT", "DATA_DIR")})
    return env


@pytest.fixture
def mail_pipeline(smtp_port: int, settings: Settings, tmp_path: Path) -> Iterator[Worker]:
    """The relay (carries `email.queued` to Celery) and a worker sending over SMTP."""
    with (
        run_relay(_env(), tmp_path / "relay"),
        run_worker(_env(), tmp_path / "worker", settings.require_redis_url()) as w,
    ):
        yield w


@pytest.fixture
def sink(smtp_port: int) -> Iterator[SmtpSink]:
    with SmtpSink("127.0.0.1", smtp_port) as s:
        yield s


@pytest.fixture
async def http(live_api: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_api, timeout=30) as c:
        yield c


def _mail_with(sink: SmtpSink, to: str, needle: str) -> list[ReceivedMail]:
    return [m for m in sink.to(to) if needle in (m.subject or "")]


async def test_search_calendar_quote_hold_book_mail_link_cancel_refund_free_again(
    http: httpx.AsyncClient, live_api: str, mail_pipeline: Worker, sink: SmtpSink
) -> None:
    e = await engine_agency(http)
    start, end = 20, 23  # 20 days ahead: the policy gives 50 % back today

    # Search: the property, priced for the stay.
    r = await http.get(e.url("/search"), params=search_params(start, end, location="wester"))
    assert r.status_code == 200, r.text
    found = r.json()
    assert [h["property"]["id"] for h in found["results"]] == [e.property_id]
    total = found["results"][0]["total"]["amount_minor"]
    # 3 nights x 100.00, cleaning 50.00, 19 % VAT on both, visitor tax 3.50 x 2 adults x 3.
    assert total == round((30000 + 5000) * 1.19) + 350 * 2 * 3
    listed = (await http.get(e.url("/properties"))).json()
    assert [(p["id"], p["from_price_minor"]) for p in listed] == [(e.property_id, 10000)]

    # Calendar: 12 months in one call; the stay's dates are open.
    r = await http.get(
        e.url(f"/properties/{e.property_id}/calendar"),
        params={"start": day(0), "end": day(365)},
    )
    assert r.status_code == 200, r.text
    days = {d["date"]: d for d in r.json()["days"]}
    assert len(days) == 365
    assert days[day(start)]["can_check_in"]
    assert days[day(start)]["price_minor"] == 10000
    assert days[day(end)]["can_check_out"]

    # Quote: the same engine, the same total, and the refund schedule.
    r = await http.post(e.url("/quotes"), json=stay(e, start, end))
    assert r.status_code == 200, r.text
    quote = r.json()
    assert quote["bookable"]
    assert quote["total"]["amount_minor"] == total

    # Hold and book with an offline payment.
    r = await http.post(e.url("/holds"), json=stay(e, start, end))
    assert r.status_code == 201, r.text
    r = await http.post(
        e.url("/bookings"),
        json={"hold_token": r.json()["hold_token"], "guest": GUEST, "accepted_terms": True},
    )
    assert r.status_code == 201, r.text
    booking = r.json()
    assert booking["status"] == "confirmed"
    assert booking["payment"]["provider"] == "offline"
    assert booking["payment"]["amount"]["amount_minor"] == total
    assert booking["quote"]["total"]["amount_minor"] == total
    # Booked: search no longer offers the dates.
    r = await http.get(e.url("/search"), params=search_params(start, end))
    assert r.json()["count"] == 0

    # The confirmation arrives at the SMTP sink with the self-service link.
    confirmed = await eventually(
        lambda: _async(_mail_with(sink, GUEST["email"], "confirmed")),
        within=30,
        what="the confirmation e-mail",
    )
    assert booking["reference"] in (confirmed[0].subject or "")
    text = confirmed[0].text or ""
    assert f"€{total // 100}.{total % 100:02d}" in text  # the stored quote's total
    # ... to the booking site's self-service page (BOOKING_SITE_URL/{agency}/manage/{token}).
    match = re.search(r"http://127\.0\.0\.1:3000/[a-z0-9-]+/manage/(\S+)", text)
    assert match, text
    link = f"{live_api}/api/v1/public/bookings/{match.group(1)}"
    view = await http.get(link)
    assert view.status_code == 200
    assert view.json()["reference"] == booking["reference"]

    # Cancel: 20 days before arrival the policy refunds 50 %.
    r = await http.post(f"{link}/cancel")
    assert r.status_code == 200, r.text
    cancelled = r.json()
    assert cancelled["status"] == "cancelled"
    expected = (total + 1) // 2 if total % 2 else total // 2
    assert cancelled["refund"]["amount_minor"] == expected
    # The refund is stored on the booking: the link shows it from then on.
    assert (await http.get(link)).json()["refund"]["amount_minor"] == expected
    assert (await http.post(f"{link}/cancel")).status_code == 409
    mails = await eventually(
        lambda: _async(_mail_with(sink, GUEST["email"], "cancel")),
        within=30,
        what="the cancellation e-mail",
    )
    assert mails[0].text is not None
    assert f"refund of €{expected // 100}.{expected % 100:02d}" in mails[0].text

    # The dates are free again: offered by search and holdable.
    r = await http.get(e.url("/search"), params=search_params(start, end))
    assert [h["property"]["id"] for h in r.json()["results"]] == [e.property_id]
    assert (await http.post(e.url("/holds"), json=stay(e, start, end))).status_code == 201


async def _async(value: Any) -> Any:
    return value


async def test_search_filters_and_sorting(client: httpx.AsyncClient) -> None:
    e = await engine_agency(client)
    h = e.agency.auth()
    # A second listed property in Hamburg, no sauna, one bedroom, cheaper.
    r = await client.post(
        "/api/v1/properties",
        json={
            "name": "Harbour Loft",
            "timezone": "Europe/Berlin",
            "currency": "EUR",
            "max_guests": 2,
            "city": "Hamburg",
            "latitude": "53.5511",
            "longitude": "9.9937",
            "bedrooms": 1,
            "amenities": ["wifi"],
            "is_listed": True,
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    loft = r.json()["id"]
    if not r.json().get("is_listed"):
        await client.patch(f"/api/v1/properties/{loft}", json={"is_listed": True}, headers=h)
    r = await client.post(
        f"/api/v1/properties/{loft}/rate-plans",
        json={"name": "Standard", "base_price_minor": 6000},
        headers=h,
    )
    assert r.status_code == 201, r.text

    async def ids(**params: Any) -> list[str]:
        r = await client.get(e.url("/search"), params=search_params(10, 17, **params))
        assert r.status_code == 200, r.text
        return [hit["property"]["id"] for hit in r.json()["results"]]

    assert await ids() == [loft, e.property_id]  # by price
    assert await ids(location="hamburg") == [loft]
    assert await ids(min_bedrooms=2) == [e.property_id]
    assert await ids(amenities=["sauna"]) == [e.property_id]
    assert await ids(adults=3) == [e.property_id]  # the loft sleeps 2
    # 30 km around Westerland: only the Sylt property; sorted by distance from Hamburg.
    assert await ids(lat=54.9, lng=8.31, radius_km=30) == [e.property_id]
    assert await ids(lat=53.55, lng=9.99, sort="distance") == [loft, e.property_id]
    r = await client.get(e.url("/search"), params=search_params(10, 17, sort="distance"))
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": "sort", "in": "query", "message": "sorting by distance needs lat and lng"}
    ]
    r = await client.get(e.url("/search"), params=search_params(17, 10))
    assert r.status_code == 422


async def test_holds_and_search_respect_restrictions(client: httpx.AsyncClient) -> None:
    e = await engine_agency(client)
    h = e.agency.auth()
    a = e.agency
    # Day 30: min stay 4 and closed to arrival on day 40; closed to departure on day 50; max
    # stay 2 on day 60.
    r = await client.put(
        f"/api/v1/rate-plans/{a.rate_plan_id}/days",
        json={
            "ranges": [
                {"start": day(30), "end": day(31), "min_stay": 4},
                {"start": day(40), "end": day(41), "closed_to_arrival": True},
                {"start": day(50), "end": day(51), "closed_to_departure": True},
                {"start": day(60), "end": day(61), "max_stay": 2},
            ]
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    cases = [
        (30, 32, "min_stay"),
        (40, 42, "closed_to_arrival"),
        (48, 50, "closed_to_departure"),
        (60, 63, "max_stay"),
    ]
    for start, end, rule in cases:
        r = await client.post(e.url("/holds"), json=stay(e, start, end))
        assert r.status_code == 422, r.text
        assert [err["rule"] for err in r.json()["errors"]] == [rule]
        found = await client.get(e.url("/search"), params=search_params(start, end))
        assert found.json()["count"] == 0
        q = await client.post(e.url("/quotes"), json=stay(e, start, end))
        assert not q.json()["bookable"]
    # The min and max stay and closed to arrival are the arrival day's: a stay that only passes
    # such a day (arriving the day before it) is offered and bookable.
    for start, end in ((29, 32), (39, 42), (59, 62)):
        found = await client.get(e.url("/search"), params=search_params(start, end))
        assert [hit["property"]["id"] for hit in found.json()["results"]] == [e.property_id]
        q = await client.post(e.url("/quotes"), json=stay(e, start, end))
        assert q.json()["bookable"], q.text
    r = await client.post(e.url("/holds"), json=stay(e, 1, 3, adults=5))
    assert r.status_code == 422
    cal = await client.get(
        e.url(f"/properties/{e.property_id}/calendar"), params={"start": day(29), "end": day(52)}
    )
    days = {d["date"]: d for d in cal.json()["days"]}
    assert days[day(30)]["min_stay"] == 4
    assert days[day(30)]["can_check_in"]
    assert not days[day(40)]["can_check_in"]
    assert not days[day(50)]["can_check_out"]
    # A stay the rules allow is held, with its quote stored.
    r = await client.post(e.url("/holds"), json=stay(e, 30, 34))
    assert r.status_code == 201, r.text
    cal = await client.get(
        e.url(f"/properties/{e.property_id}/calendar"), params={"start": day(29), "end": day(36)}
    )
    days = {d["date"]: d for d in cal.json()["days"]}
    assert not days[day(31)]["available"]
    assert days[day(34)]["available"]


async def test_a_stay_of_the_max_stay_exactly_or_passing_a_day_closed_to_departure_is_offered(
    client: httpx.AsyncClient,
) -> None:
    """A max stay admits a stay of exactly that length; closed to departure is the departure
    day's rule only, so a stay that passes such a day is offered and bookable."""
    e = await engine_agency(client)
    r = await client.put(
        f"/api/v1/rate-plans/{e.agency.rate_plan_id}/days",
        json={
            "ranges": [
                {"start": day(50), "end": day(51), "closed_to_departure": True},
                {"start": day(60), "end": day(61), "max_stay": 2},
            ]
        },
        headers=e.agency.auth(),
    )
    assert r.status_code == 200, r.text
    for start, end in ((60, 62), (49, 52)):
        found = await client.get(e.url("/search"), params=search_params(start, end))
        assert [hit["property"]["id"] for hit in found.json()["results"]] == [e.property_id]
        q = await client.post(e.url("/quotes"), json=stay(e, start, end))
        assert q.json()["bookable"], q.text
    for start, end in ((60, 63), (48, 50)):
        found = await client.get(e.url("/search"), params=search_params(start, end))
        assert found.json()["count"] == 0
