"""Finding 3: the live event stream does not outlive the access it was opened with. A logout,
a revoked session or a removed membership ends it with a final ``event: revoked``: checked
before each event is sent, and on a short interval while the stream is quiet."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from pms.api import events
from pms.core.permissions import Role
from tests.factories import Agency, full_agency, property_body
from tests.integration import test_event_stream as es
from tests.services import Worker


@pytest.fixture
async def http(live_api: str, relay: Worker) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_api, timeout=30) as c:
        yield c


async def test_a_logged_out_user_gets_no_further_event(http: httpx.AsyncClient) -> None:
    a = await full_agency(http, "Revoke A")
    staff = a.auth(Role.STAFF)
    async with http.stream("GET", es.STREAM, headers=staff, timeout=None) as response:
        assert response.status_code == 200
        watcher = es.Stream()
        reader = asyncio.create_task(watcher.read(response))
        async with asyncio.timeout(10):
            await watcher.connected.wait()
        before = await es.book(http, a, a.property_id, "2034-01-10", "2034-01-12")
        await watcher.until(es.created(before), within=5.0)
        assert (await http.post("/api/v1/auth/logout", headers=staff)).status_code == 204
        after = await es.book(http, a, a.property_id, "2034-02-10", "2034-02-12")
        revoked = await watcher.until(lambda e: e.type == "revoked", within=5.0)
        async with asyncio.timeout(5):
            await reader  # the server closed the stream
    assert revoked is watcher.received[-1]
    assert after not in {e.data.get("payload", {}).get("booking_id") for e in watcher.received}


async def test_a_removed_member_is_cut_off_while_the_stream_is_quiet(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "REVALIDATE_SECONDS", 0.5)
    a = await full_agency(http, "Revoke B")
    async with http.stream(
        "GET", es.STREAM, headers=a.auth(Role.MANAGER), timeout=None
    ) as response:
        assert response.status_code == 200
        watcher = es.Stream()
        reader = asyncio.create_task(watcher.read(response))
        async with asyncio.timeout(10):
            await watcher.connected.wait()
        r = await http.delete(f"/api/v1/members/{a.users[Role.MANAGER]}", headers=a.auth())
        assert r.status_code == 204, r.text
        # No event is published: the interval check alone ends the stream.
        await watcher.until(lambda e: e.type == "revoked", within=5.0)
        async with asyncio.timeout(5):
            await reader
    # (Setup events the relay published late may come first; nothing follows the revocation.)
    assert watcher.received[-1].type == "revoked"
    # And it cannot be opened again.
    r = await http.get(es.STREAM, headers=a.auth(Role.MANAGER))
    assert r.status_code in (401, 403)


async def test_a_member_made_owner_sees_only_their_properties_from_then_on(
    http: httpx.AsyncClient,
) -> None:
    a: Agency = await full_agency(http, "Revoke C")
    async with http.stream("GET", es.STREAM, headers=a.auth(Role.STAFF), timeout=None) as response:
        assert response.status_code == 200
        watcher = es.Stream()
        reader = asyncio.create_task(watcher.read(response))
        async with asyncio.timeout(10):
            await watcher.connected.wait()
        # Everything published before now has reached the stream (the relay may lag).
        marker = await es.book(http, a, a.property_id, "2034-02-10", "2034-02-12")
        await watcher.until(es.created(marker), within=10.0)
        await watcher.until(lambda e: e.type == "availability.changed", within=10.0)
        watcher.received.clear()
        r = await http.patch(
            f"/api/v1/members/{a.users[Role.STAFF]}", json={"role": "owner"}, headers=a.auth()
        )
        assert r.status_code == 200, r.text
        r = await http.post(
            "/api/v1/properties",
            json=property_body(owner_user_id=a.users[Role.STAFF]),
            headers=a.auth(),
        )
        assert r.status_code == 201, r.text
        theirs = r.json()["id"]
        hidden = await es.book(http, a, a.property_id, "2034-03-10", "2034-03-12")
        shown = await es.book(http, a, theirs, "2034-03-10", "2034-03-12")
        # Published after the hidden one: had the hidden one been sent, it came first.
        await watcher.until(es.created(shown), within=5.0)
        reader.cancel()
    assert hidden not in {e.data["payload"].get("booking_id") for e in watcher.received}
    made = {
        e.data["payload"]["property_id"] for e in watcher.received if e.type == "booking.created"
    }
    assert made == {theirs}
