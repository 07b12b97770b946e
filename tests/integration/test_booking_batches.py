"""Booking creates written together (``pms.core.booking_batches``, ``bookings.create_many``) and
``POST /api/v1/bookings`` answered in front of routing (``pms.api.bookingfront``): the same
bookings, events, audit rows and answers as one create at a time; a batch never writes what
``create`` would refuse, never half of a clash, and never retries a failed commit."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from pms import db
from pms.core import auth
from pms.core.booking_batches import BookingBatcher, CommitFailed, batcher
from pms.core.permissions import Role
from pms.core.tenancy import Actor
from pms.logs import request_id_var
from pms.schemas.booking import BookingCreate
from tests.factories import Agency, add_rates, full_agency, property_body, signup
from tests.services import plain

D = date(2036, 3, 1)
JSON = {"Content-Type": "application/json"}


def day(n: int) -> str:
    return (D + timedelta(days=n)).isoformat()


@pytest.fixture
async def agency(client: httpx.AsyncClient) -> Agency:
    return await full_agency(client)


async def _signed_in(
    client: httpx.AsyncClient, a: Agency, role: Role = Role.ADMIN
) -> tuple[Actor, str]:
    """The actor of ``role``'s token and its sign-in generation, as the front finds them."""
    r = await client.get("/api/v1/bookings?limit=1", headers=a.auth(role))
    assert r.status_code == 200, r.text
    found = auth.remembered(a.tokens[role], None)
    assert found is not None
    return found


def _data(a: Agency, n: int, nights: int = 2, **extra: Any) -> BookingCreate:
    return BookingCreate.model_validate(
        {
            "property_id": a.property_id,
            "check_in": day(3 * n),
            "check_out": day(3 * n + nights),
            "adults": 2,
            "guest_id": a.guest_id,
            **extra,
        }
    )


async def _together(
    b: BookingBatcher, actor: Actor, generation: str, items: list[BookingCreate]
) -> list[Any]:
    """Every item handed to the batcher before any batch starts (as concurrent requests are),
    each under its own request id."""

    async def one(n: int, data: BookingCreate) -> Any:
        request_id_var.set(f"req-{n}")
        return await b.create(actor, generation, data)

    return await asyncio.gather(*(one(n, d) for n, d in enumerate(items)))


async def _owner_fetch(database_url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(plain(database_url))
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def test_creates_waiting_together_are_one_batch_with_every_row_of_a_single_create(
    client: httpx.AsyncClient, agency: Agency, database_url: str
) -> None:
    actor, generation = await _signed_in(client, agency)
    b = BookingBatcher()
    answers = await _together(b, actor, generation, [_data(agency, n) for n in range(20)])

    assert (b.batches, b.items) == (1, 20)
    assert all(a is not None for a in answers)
    ids = [str(booking.id) for booking, _ in answers]
    references = {str(booking.id): booking.reference for booking, _ in answers}
    assert len(set(references.values())) == 20
    events = await _owner_fetch(
        database_url,
        "SELECT id, event_type, aggregate_id, payload, request_id FROM outbox_events "
        "WHERE aggregate_id = ANY($1::text[]) OR payload->>'property_id' = $2 ORDER BY id",
        ids,
        agency.property_id,
    )
    for n, booking_id in enumerate(ids):
        created = [e for e in events if e["aggregate_id"] == booking_id]
        assert [e["event_type"] for e in created] == ["booking.created"]
        assert f'"reference": "{references[booking_id]}"' in created[0]["payload"]
        assert created[0]["request_id"] == f"req-{n}"
        # availability.changed of the same request follows its booking.created.
        changed = [
            e
            for e in events
            if e["event_type"] == "availability.changed" and e["request_id"] == f"req-{n}"
        ]
        assert len(changed) == 1
        assert changed[0]["id"] > created[0]["id"]
        assert f'"start": "{day(3 * n)}"' in changed[0]["payload"]
    entries = await _owner_fetch(
        database_url,
        "SELECT entity_id, after->>'reference' AS reference, request_id, actor_user_id "
        "FROM audit_log WHERE entity_id = ANY($1::text[]) AND action = 'created'",
        ids,
    )
    assert {e["entity_id"]: e["reference"] for e in entries} == references
    assert {e["actor_user_id"] for e in entries} == {actor.user_id}
    taken = await _owner_fetch(
        database_url,
        "SELECT booking_id FROM occupied_ranges WHERE booking_id = ANY($1::uuid[])",
        ids,
    )
    assert len(taken) == 20


async def test_what_create_would_refuse_is_left_to_it_and_the_rest_is_written(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    other = await full_agency(client, "Other")
    r = await client.post(
        "/api/v1/guests",
        json={"email": "erased@example.com", "last_name": "X"},
        headers=agency.auth(),
    )
    erased = r.json()["id"]
    r = await client.post(f"/api/v1/guests/{erased}/erase", headers=agency.auth())
    assert r.status_code == 200, r.text
    actor, generation = await _signed_in(client, agency, Role.STAFF)
    refused = [
        _data(agency, 1, property_id=str(uuid.uuid4())),  # no such property
        _data(agency, 2, property_id=other.property_id),  # another agency's
        _data(agency, 3, adults=9),  # over max_guests (4)
        _data(agency, 4, guest_id=other.guest_id),  # another agency's guest
        _data(agency, 5, guest_id=erased),
        _data(agency, 6, status="checked_in"),  # not a status a booking starts in
        _data(agency, 7, override_restrictions=True, source="manual"),
    ]
    fine = [
        _data(agency, 10),
        _data(agency, 11, status="requested"),
        _data(agency, 12, status="hold"),
    ]
    b = BookingBatcher()
    answers = await _together(b, actor, generation, refused + fine)

    assert b.batches == 1
    assert answers[: len(refused)] == [None] * len(refused)
    written = answers[len(refused) :]
    assert [booking.status.value for booking, _ in written] == ["confirmed", "requested", "hold"]
    assert written[2][0].hold_expires_at is not None
    # Each refused one, sent on its own, gets the error create gives.
    for data, status in zip(refused, (404, 404, 422, 404, 422, 422, 403), strict=True):
        r = await client.post(
            "/api/v1/bookings",
            content=data.model_dump_json(),
            headers=agency.auth(Role.STAFF) | JSON,
        )
        assert r.status_code == status, (data, r.text)


async def test_a_batch_that_clashes_is_written_in_halves_down_to_the_clashing_booking(
    client: httpx.AsyncClient, agency: Agency, database_url: str
) -> None:
    actor, generation = await _signed_in(client, agency)
    # Items 2 and 3 overlap each other; item 6 overlaps the agency's booking of 2030-01-10.
    items = [_data(agency, n) for n in (20, 21)]
    items += [_data(agency, 30, nights=4), _data(agency, 31)]
    items += [_data(agency, n) for n in (40, 41)]
    items += [_data(agency, 0, check_in="2030-01-11", check_out="2030-01-13"), _data(agency, 50)]
    b = BookingBatcher()
    answers = await _together(b, actor, generation, items)

    assert [a is not None for a in answers] == [True, True, True, False, True, True, False, True]
    # 0-7 clash; 0-3 clash: 0-1 written, 2-3 clash: 2 written, 3 clashes;
    # 4-7 clash: 4-5 written, 6-7 clash: 6 clashes, 7 written.
    assert b.batches == 11
    rows = await _owner_fetch(
        database_url,
        "SELECT count(*) AS n FROM bookings WHERE check_in >= $1",
        D + timedelta(days=60),
    )
    assert rows[0]["n"] == 6
    # What was left is answered by the endpoint, with the clash it met.
    for n in (3, 6):
        r = await client.post(
            "/api/v1/bookings", content=items[n].model_dump_json(), headers=agency.auth() | JSON
        )
        assert r.status_code == 409, r.text
        assert r.json()["conflict_type"] == "booking"


async def test_the_same_window_at_once_over_http_lets_exactly_one_through(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    items = [_data(agency, 60), _data(agency, 61)] + [_data(agency, 70, nights=4)] * 6
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/bookings", content=d.model_dump_json(), headers=agency.auth() | JSON
            )
            for d in items
        )
    )
    codes = [r.status_code for r in responses]
    assert codes[:2] == [201, 201]
    assert sorted(codes[2:]) == [201] + [409] * 5, [r.text for r in responses]
    for r in responses:
        if r.status_code == 409:
            assert r.json()["conflict_type"] == "booking"


async def test_a_sign_in_that_changed_since_is_not_written_and_the_endpoint_answers(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    actor, _ = await _signed_in(client, agency)
    b = BookingBatcher()
    assert await b.create(actor, "an older generation", _data(agency, 40)) is None
    assert b.batches == 0

    r = await client.post("/api/v1/auth/logout", headers=agency.auth())
    assert r.status_code == 204, r.text
    r = await client.post(
        "/api/v1/bookings", content=_data(agency, 41).model_dump_json(), headers=agency.auth()
    )
    assert r.status_code == 401, r.text


async def test_a_failed_commit_is_passed_on_not_retried(
    client: httpx.AsyncClient, agency: Agency, database_url: str
) -> None:
    actor, generation = await _signed_in(client, agency)

    def refuse(_: Session) -> None:
        raise RuntimeError("commit refused by the test")

    b = BookingBatcher()
    event.listen(Session, "before_commit", refuse)
    try:
        with pytest.raises(CommitFailed):
            await b.create(actor, generation, _data(agency, 50))
    finally:
        event.remove(Session, "before_commit", refuse)
    assert (b.batches, b.items) == (1, 1)


def _front_items() -> int:
    return batcher().items


async def test_the_front_answers_as_the_endpoint_does(client: httpx.AsyncClient) -> None:
    _, token, _ = await signup(client, "Front")
    h = {"Authorization": f"Bearer {token}"}
    r = await client.post("/api/v1/properties", json=property_body(), headers=h)
    prop = r.json()["id"]
    guest = {
        "email": "front@example.com",
        "first_name": "Fro",
        "last_name": "Nt",
        "phone": "+4912345",
    }
    body = {"property_id": prop, "check_in": day(60), "check_out": day(62), "guest": guest}

    # The token's first use resolved it in the endpoint's dependencies; this process knows it now.
    before = _front_items()
    first = await client.post("/api/v1/bookings", json=body, headers=h)
    assert first.status_code == 201, first.text
    assert _front_items() == before + 1
    second = await client.post(
        "/api/v1/bookings", json=body | {"check_in": day(63), "check_out": day(65)}, headers=h
    )
    assert second.status_code == 201
    assert _front_items() == before + 2
    assert first.headers["content-type"] == "application/json"
    assert "x-request-id" in first.headers
    one, two = first.json(), second.json()
    assert one["guest"]["id"] == two["guest"]["id"]  # found by e-mail, not created twice
    for answer in (one, two):
        r = await client.get(f"/api/v1/bookings/{answer['id']}", headers=h)
        assert r.json() == answer

    # What the front cannot decide goes to the endpoint, body intact.
    r = await client.post("/api/v1/bookings", json=body | {"check_out": day(59)}, headers=h)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    r = await client.post("/api/v1/bookings", content=b"{not json", headers=h | JSON)
    assert r.status_code == 422, r.text
    r = await client.post("/api/v1/bookings", content=json.dumps(body), headers=h)
    assert r.status_code == 422, r.text  # no content type: not JSON to the endpoint either
    r = await client.post(
        "/api/v1/bookings", data={"property_id": prop}, headers=h
    )  # a form, not JSON
    assert r.status_code == 422, r.text
    r = await client.post("/api/v1/bookings", json=body, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401, r.text
    r = await client.post("/api/v1/bookings", json=body, headers=h)
    assert r.status_code == 409
    assert r.json()["conflict_type"] == "booking"

    # An Idempotency-Key still replays the first answer.
    key = {"Idempotency-Key": f"front-{uuid.uuid4()}"}
    again = body | {"check_in": day(70), "check_out": day(71)}
    r1 = await client.post("/api/v1/bookings", json=again, headers=h | key)
    r2 = await client.post("/api/v1/bookings", json=again, headers=h | key)
    assert r1.status_code == r2.status_code == 201
    assert r1.json()["id"] == r2.json()["id"]


@pytest.fixture
def ping_every_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)


async def test_a_pooled_connection_the_server_dropped_is_replaced_after_the_ping(
    client: httpx.AsyncClient, agency: Agency, database_url: str, ping_every_checkout: None
) -> None:
    r = await client.get("/api/v1/bookings", headers=agency.auth())
    assert r.status_code == 200
    dropped = await _owner_fetch(
        database_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'pms' AND datname = current_database()",
    )
    assert dropped
    assert all(row[0] for row in dropped)
    r = await client.get("/api/v1/bookings", headers=agency.auth())
    assert r.status_code == 200, r.text


async def test_a_connection_lost_under_a_request_is_a_503_and_the_next_request_reconnects(
    client: httpx.AsyncClient, agency: Agency, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the ping (a connection used within the last second), a server restart meets
    the request itself: it is told to retry, nothing was saved, and the pool starts afresh."""
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 1000.0)
    r = await client.get("/api/v1/bookings", headers=agency.auth())
    assert r.status_code == 200
    await _owner_fetch(
        database_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'pms' AND datname = current_database()",
    )
    r = await client.get("/api/v1/bookings", headers=agency.auth())
    assert r.status_code == 503, r.text
    assert r.json()["type"] == "/problems/database-unavailable"
    assert r.headers["retry-after"] == "1"
    r = await client.get("/api/v1/bookings", headers=agency.auth())
    assert r.status_code == 200, r.text


async def test_a_batch_prices_each_booking_as_a_quote_does(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    await add_rates(client, agency)
    actor, generation = await _signed_in(client, agency)
    # Within the ARI horizon (ari_store.HORIZON_MONTHS from today).
    start = datetime.now(UTC).date() + timedelta(days=100)
    items = [
        _data(
            agency,
            0,
            check_in=start + timedelta(days=4 * n),
            check_out=start + timedelta(days=4 * n + 2 + n % 2),
        )
        for n in range(4)
    ]
    quotes = []
    for data in items:
        r = await client.post(
            "/api/v1/quotes",
            json={
                "property_id": agency.property_id,
                "check_in": data.check_in.isoformat(),
                "check_out": data.check_out.isoformat(),
                "adults": data.adults,
            },
            headers=agency.auth(),
        )
        assert r.status_code == 200, r.text
        quotes.append(r.json())
    b = BookingBatcher()
    answers = await _together(b, actor, generation, items)

    assert b.batches == 1
    for answer, quote in zip(answers, quotes, strict=True):
        assert answer is not None, quote["reasons"]
        assert answer[0].quote["total"] == quote["total"]
        assert answer[0].quote["lines"] == quote["lines"]
