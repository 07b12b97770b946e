"""Cached reads (the calendar, the public search, known bearer tokens) are served without the
database only while nothing they show has changed: every committed write, whichever process
or code path made it, is visible to the next request."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, update

from pms import db
from pms.core import blocks
from pms.core.permissions import Role
from pms.core.tenancy import Actor
from pms.models.property import Property
from pms.redis_client import close_redis
from pms.schemas.booking import BlockCreate
from pms.settings import Settings, reset_settings_cache
from tests.factories import Agency, full_agency
from tests.integration.direct.engine import engine_agency, search_params, stay
from tests.services import eventually, run_api

START, END = "2032-03-01", "2032-03-08"


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements the application runs inside the block."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    engine = db.get_engine().sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def calendar(client: httpx.AsyncClient, a: Agency, role: Role = Role.ADMIN) -> Any:
    """The calendar of agency.property_id; for owners, of every property they may see."""
    params: dict[str, Any] = {"start": START, "end": END}
    if role is not Role.OWNER:
        params["property_ids"] = [a.property_id]
    r = await client.get("/api/v1/calendar", params=params, headers=a.auth(role))
    assert r.status_code == 200, r.text
    return r.json()


async def book(
    api: httpx.AsyncClient, a: Agency, check_in: str, check_out: str, role: Role = Role.ADMIN
) -> httpx.Response:
    """POST a booking of agency.property_id for the agency's guest."""
    return await api.post(
        "/api/v1/bookings",
        json={
            "property_id": a.property_id,
            "check_in": check_in,
            "check_out": check_out,
            "guest_id": a.guest_id,
        },
        headers=a.auth(role),
    )


def statuses(cal: Any) -> list[str]:
    return [d["status"] for d in cal["properties"][0]["days"]]


@pytest.fixture
async def agency(client: httpx.AsyncClient) -> Agency:
    return await full_agency(client)


async def test_a_repeated_calendar_runs_no_statement_until_a_booking_changes_it(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    first = await calendar(client, agency)
    assert statuses(first) == ["free"] * 7
    with statements() as seen:
        again = await calendar(client, agency)
    assert again == first
    assert seen == []  # neither authentication nor the calendar touched the database

    r = await book(client, agency, "2032-03-02", "2032-03-04")
    assert r.status_code == 201, r.text
    booking = r.json()
    assert statuses(await calendar(client, agency)) == ["free", "booked", "booked"] + ["free"] * 4

    r = await client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=agency.auth())
    assert r.status_code == 200, r.text
    assert statuses(await calendar(client, agency)) == ["free"] * 7


async def test_a_write_by_another_process_path_is_seen_at_once(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    """A worker's transaction (``db.transaction``) publishes its writes after its commit."""
    assert statuses(await calendar(client, agency)) == ["free"] * 7
    actor = Actor(None, "system:test", db_uuid(agency.id), Role.ADMIN)
    async with db.transaction(actor.agency_id) as session:
        await blocks.create(
            session,
            actor,
            BlockCreate(
                property_id=db_uuid(agency.property_id),
                start=date(2032, 3, 5),
                end=date(2032, 3, 7),
            ),
        )
    assert statuses(await calendar(client, agency)) == ["free"] * 4 + ["blocked"] * 2 + ["free"]


async def test_a_session_committed_by_hand_still_invalidates(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    """Code that commits a plain session (a script, a mid-request commit) bumps in the
    background: the change shows up without anyone waiting for a TTL."""
    before = await calendar(client, agency, Role.OWNER)
    assert len(before["properties"]) == 1  # the owner's own property only
    async with db.get_sessionmaker()() as session:
        await db.set_tenant(session, db_uuid(agency.id))
        await session.execute(
            update(Property)
            .where(Property.id == db_uuid(agency.property_id))
            .values(owner_user_id=db_uuid(agency.users[Role.OWNER]))
        )
        await session.commit()

    async def owner_sees_it() -> bool:
        return len((await calendar(client, agency, Role.OWNER))["properties"]) == 2

    await eventually(owner_sees_it)


async def test_owners_and_staff_never_share_a_cached_calendar(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    params = {"start": START, "end": END}
    r = await client.get("/api/v1/calendar", params=params, headers=agency.auth())
    assert len(r.json()["properties"]) == 2
    r = await client.get("/api/v1/calendar", params=params, headers=agency.auth(Role.OWNER))
    assert [p["property_id"] for p in r.json()["properties"]] == [agency.owned_property_id]


async def test_a_changed_role_and_a_logout_take_effect_on_the_next_request(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    await calendar(client, agency, Role.STAFF)  # the staff token is now known
    r = await client.patch(
        f"/api/v1/members/{agency.users[Role.STAFF]}",
        json={"role": "accountant"},
        headers=agency.auth(),
    )
    assert r.status_code == 200, r.text
    r = await book(client, agency, "2032-04-01", "2032-04-03", Role.STAFF)
    assert r.status_code == 403, r.text  # accountants may not create bookings

    r = await client.delete(f"/api/v1/members/{agency.users[Role.STAFF]}", headers=agency.auth())
    assert r.status_code == 204, r.text
    r = await client.get(
        "/api/v1/calendar",
        params={"start": START, "end": END, "property_ids": [agency.property_id]},
        headers=agency.auth(Role.STAFF),
    )
    assert r.status_code == 403, r.text

    await calendar(client, agency)
    r = await client.post("/api/v1/auth/logout", headers=agency.auth())
    assert r.status_code == 204, r.text
    r = await client.get(
        "/api/v1/calendar", params={"start": START, "end": END}, headers=agency.auth()
    )
    assert r.status_code == 401, r.text


async def test_without_redis_nothing_is_cached_and_everything_still_answers(
    client: httpx.AsyncClient, agency: Agency, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await calendar(client, agency)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")  # nothing listens on port 9
    reset_settings_cache()
    await close_redis()
    try:
        with statements() as seen:
            cal = await calendar(client, agency)
        assert statuses(cal) == ["free"] * 7
        assert seen  # answered from the database
        # A create from a known token goes to the endpoint (its batch cannot check the sign-in).
        r = await book(client, agency, START, "2032-03-03")
        assert r.status_code == 201, r.text
        assert statuses(await calendar(client, agency))[:3] == ["booked", "booked", "free"]
    finally:
        await close_redis()


def db_uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)


async def test_a_repeated_search_is_cached_until_a_hold_takes_the_dates(
    client: httpx.AsyncClient,
) -> None:
    e = await engine_agency(client)

    async def offered() -> list[str]:
        r = await client.get(e.url("/search"), params=search_params(10, 17))
        assert r.status_code == 200, r.text
        return [hit["property"]["id"] for hit in r.json()["results"]]

    assert await offered() == [e.property_id]
    with statements() as seen:
        assert await offered() == [e.property_id]
    assert seen == []
    r = await client.post(e.url("/holds"), json=stay(e, 12, 14))
    assert r.status_code == 201, r.text
    assert await offered() == []
    later = search_params(20, 27)
    r = await client.get(e.url("/search"), params=later)
    assert len(r.json()["results"]) == 1  # now cached
    r = await client.patch(
        f"/api/v1/properties/{e.property_id}", json={"is_listed": False}, headers=e.agency.auth()
    )
    assert r.status_code == 200, r.text
    r = await client.get(e.url("/search"), params=later)
    assert r.json()["results"] == []  # unlisted: gone from the cached answer too


async def test_a_cached_search_still_counts_against_the_rate_limits(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    e = await engine_agency(client)
    monkeypatch.setenv("PUBLIC_REQUESTS_PER_MINUTE_PER_IP", "3")
    reset_settings_cache()
    answers = [await client.get(e.url("/search"), params=search_params(10, 17)) for _ in range(5)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert answers[-1].json()["status"] == 429  # a problem document, as from the endpoint


async def test_only_the_exact_known_token_and_agency_are_answered_from_memory(
    client: httpx.AsyncClient, agency: Agency
) -> None:
    await calendar(client, agency)  # the admin token is known now
    token = agency.tokens[Role.ADMIN]
    params = {"start": START, "end": END, "property_ids": [agency.property_id]}
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    r = await client.get(
        "/api/v1/calendar", params=params, headers={"Authorization": f"Bearer {tampered}"}
    )
    assert r.status_code == 401, r.text
    other = await full_agency(client, "Other")
    r = await client.get(
        "/api/v1/calendar",
        params=params,
        headers={**agency.auth(), "X-Agency-Id": other.id},
    )
    assert r.status_code == 403, r.text
    r = await client.get(
        "/api/v1/calendar", params=params, headers={**agency.auth(), "X-Agency-Id": "nope"}
    )
    assert r.status_code == 422, r.text


def _api_env() -> dict[str, str]:
    return {k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL", "ENVIRONMENT", "DATA_DIR")}


async def test_two_api_processes_never_serve_each_other_a_stale_answer(
    client: httpx.AsyncClient, agency: Agency, tmp_path: Path
) -> None:
    """Each `pms api` process has its own caches; a write through one is seen by the other's
    very next request (the generation is bumped before the writer's reply goes out)."""
    stack = ExitStack()
    try:
        # Started and stopped off the event loop: each takes a few seconds.
        a_url, b_url = await asyncio.gather(
            *(
                asyncio.to_thread(stack.enter_context, run_api(_api_env(), tmp_path))
                for _ in range(2)
            )
        )
        async with (
            httpx.AsyncClient(base_url=a_url, timeout=30) as a,
            httpx.AsyncClient(base_url=b_url, timeout=30) as b,
        ):
            for api in (a, b):  # both processes now hold the token and the answer
                assert statuses(await calendar(api, agency)) == ["free"] * 7
                assert statuses(await calendar(api, agency)) == ["free"] * 7
            r = await book(a, agency, "2032-03-03", "2032-03-05")
            assert r.status_code == 201, r.text
            expected = ["free"] * 2 + ["booked"] * 2 + ["free"] * 3
            assert statuses(await calendar(b, agency)) == expected
            r = await a.post("/api/v1/auth/logout", headers=agency.auth())
            assert r.status_code == 204, r.text
            r = await b.get(
                "/api/v1/calendar", params={"start": START, "end": END}, headers=agency.auth()
            )
            assert r.status_code == 401, r.text
    finally:
        await asyncio.to_thread(stack.close)
