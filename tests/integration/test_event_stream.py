"""GET /api/v1/events/stream: each agency's live events over real HTTP (uvicorn on loopback,
`pms relay` as its own process), reconnect with Last-Event-ID, owners' narrower view."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms import db
from pms.core import blocks
from pms.core.permissions import Role
from pms.core.tenancy import Actor
from pms.models.outbox import OutboxEvent
from pms.schemas.booking import BlockCreate
from pms.settings import Settings
from tests.factories import Agency, full_agency
from tests.services import Worker

STREAM = "/api/v1/events/stream"


@dataclass
class Sse:
    id: str  # the position in the agency's stream: "<ms>-<seq>"
    type: str
    data: dict[str, Any]

    @property
    def position(self) -> tuple[int, int]:
        ms, _, seq = self.id.partition("-")
        return int(ms), int(seq)


class Stream:
    """One open event stream, read by a background task into a queue."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[Sse] = asyncio.Queue()
        self.received: list[Sse] = []
        self.connected = asyncio.Event()
        self.heartbeats = asyncio.Event()

    async def read(self, response: httpx.Response) -> None:
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line.startswith(": connected"):
                self.connected.set()
            elif line.startswith(": heartbeat"):
                self.heartbeats.set()
            elif line.startswith(":"):
                continue
            elif line == "":
                if fields:
                    sse = Sse(fields["id"], fields["event"], json.loads(fields["data"]))
                    self.received.append(sse)
                    self.events.put_nowait(sse)
                fields = {}
            else:
                name, _, value = line.partition(": ")
                fields[name] = value

    async def until(self, predicate: Any, within: float) -> Sse:
        """The next event matching ``predicate`` (events before it are kept in ``received``)."""
        async with asyncio.timeout(within):
            while True:
                sse = await self.events.get()
                if predicate(sse):
                    return sse


@asynccontextmanager
async def stream(
    http: httpx.AsyncClient, headers: dict[str, str], last_event_id: str | None = None
) -> AsyncIterator[Stream]:
    h = dict(headers)
    if last_event_id is not None:
        h["Last-Event-ID"] = last_event_id
    s = Stream()
    async with http.stream("GET", STREAM, headers=h, timeout=None) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = asyncio.create_task(s.read(response))
        try:
            async with asyncio.timeout(10):
                await s.connected.wait()
            yield s
        finally:
            reader.cancel()


@pytest.fixture
async def http(live_api: str, relay: Worker) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_api, timeout=30) as c:
        yield c


async def book(http: httpx.AsyncClient, a: Agency, property_id: str, start: str, end: str) -> str:
    r = await http.post(
        "/api/v1/bookings",
        json={
            "property_id": property_id,
            "check_in": start,
            "check_out": end,
            "guest_id": a.guest_id,
        },
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    booking_id: str = r.json()["id"]
    return booking_id


def created(booking_id: str) -> Any:
    return lambda e: e.type == "booking.created" and e.data["payload"]["booking_id"] == booking_id


async def test_an_agency_sees_its_own_booking_within_a_second_and_never_anothers(
    http: httpx.AsyncClient,
) -> None:
    a = await full_agency(http, "A")
    b = await full_agency(http, "B")
    b_properties = {b.property_id, b.owned_property_id}
    async with AsyncExitStack() as stack:
        sa = await stack.enter_async_context(stream(http, a.auth()))
        sb = await stack.enter_async_context(stream(http, b.auth()))
        a_booking = await book(http, a, a.property_id, "2033-01-10", "2033-01-14")
        posted = time.monotonic()
        seen = await sa.until(created(a_booking), within=1.0)
        assert time.monotonic() - posted <= 1.0
        assert "id" not in seen.data  # no global sequence value; seen.id is the position
        assert uuid.UUID(seen.data["event_id"])
        assert seen.position > (0, 0)
        assert seen.data["payload"]["property_id"] == a.property_id
        # Once B's stream shows a booking of B's made after A's, A's would have appeared
        # before it if it ever were to (each agency's stream is in publication order).
        b_booking = await book(http, b, b.property_id, "2033-01-10", "2033-01-14")
        await sb.until(created(b_booking), within=5.0)
        assert sb.received
        assert all(e.data["payload"].get("property_id") in b_properties for e in sb.received)
        assert a_booking not in {e.data["payload"].get("booking_id") for e in sb.received}


async def test_reconnecting_with_last_event_id_replays_what_was_missed_then_goes_live(
    http: httpx.AsyncClient,
) -> None:
    a = await full_agency(http, "A")
    b = await full_agency(http, "B")
    async with stream(http, a.auth()) as first:
        before = await book(http, a, a.property_id, "2033-02-01", "2033-02-03")
        last = (await first.until(created(before), within=5.0)).id
        # The booking's availability.changed follows its booking.created.
        last = (await first.until(lambda e: e.type == "availability.changed", within=5.0)).id
    missed = await book(http, a, a.property_id, "2033-02-05", "2033-02-07")
    await book(http, b, b.property_id, "2033-02-05", "2033-02-07")  # never A's to see
    async with stream(http, a.auth(), last_event_id=last) as second:
        await second.until(created(missed), within=5.0)
        after = await book(http, a, a.property_id, "2033-02-09", "2033-02-11")
        await second.until(created(after), within=5.0)
        # Let whatever the relay might still re-send arrive: A's block is the last event.
        r = await http.post(
            "/api/v1/blocks",
            json={"property_id": a.property_id, "start": "2033-03-01", "end": "2033-03-02"},
            headers=a.auth(),
        )
        assert r.status_code == 201, r.text
        await second.until(lambda e: e.type == "block.created", within=5.0)
        await second.until(lambda e: e.type == "availability.changed", within=5.0)
    positions = [e.position for e in second.received]
    assert positions == sorted(set(positions)), "no duplicates, in order"
    event_ids = [e.data["event_id"] for e in second.received]
    assert len(event_ids) == len(set(event_ids)), "no event twice"
    assert min(positions) > Sse(last, "", {}).position
    bookings = [e.data["payload"].get("booking_id") for e in second.received]
    assert before not in bookings
    assert bookings.count(missed) == 1
    assert {"start": "2033-02-05", "end": "2033-02-07"}.items() <= next(
        e.data["payload"] for e in second.received if e.type == "availability.changed"
    ).items()
    assert all(
        e.data["payload"]["property_id"] in {a.property_id, a.owned_property_id}
        for e in second.received
    )


async def test_owners_see_only_their_own_properties_events(http: httpx.AsyncClient) -> None:
    a = await full_agency(http, "A")
    async with stream(http, a.auth(Role.OWNER)) as owner:
        other = await book(http, a, a.property_id, "2033-04-01", "2033-04-03")
        mine = await book(http, a, a.owned_property_id, "2033-04-01", "2033-04-03")
        await owner.until(created(mine), within=5.0)
    assert {e.data["payload"]["property_id"] for e in owner.received} == {a.owned_property_id}
    assert other not in {e.data["payload"].get("booking_id") for e in owner.received}


async def test_the_stream_needs_a_login_and_a_sane_last_event_id(
    http: httpx.AsyncClient,
) -> None:
    r = await http.get(STREAM)
    assert r.status_code == 401
    a = await full_agency(http, "A")
    for bad in ("abc", "12", "1-2-3", "-1-0"):
        r = await http.get(STREAM, headers={**a.auth(), "Last-Event-ID": bad})
        assert r.status_code == 422, bad


async def test_an_event_committed_after_a_later_one_is_not_lost_on_reconnect(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    """Outbox ids follow insertion, but commits can come in the other order: a client that saw
    an event with a higher id and reconnects from it still gets the one with the lower id that
    committed later."""
    a = await full_agency(http, "A")
    # Its own engine: the shared one belongs to the API's event loop (another thread).
    engine = db.create_engine(settings.require_database_url(), app_role=settings.db_app_role)
    try:
        async with AsyncSession(engine) as slow, slow.begin():
            await db.set_tenant(slow, uuid.UUID(a.id))
            # Takes its outbox id (a block.created) now, commits after the booking below.
            await blocks.create(
                slow,
                Actor(None, "system:test", uuid.UUID(a.id), Role.ADMIN),
                BlockCreate(
                    property_id=uuid.UUID(a.property_id),
                    start=date(2033, 5, 1),
                    end=date(2033, 5, 3),
                ),
            )
            async with stream(http, a.auth()) as first:
                fast = await book(http, a, a.property_id, "2033-05-10", "2033-05-12")
                seen = await first.until(created(fast), within=5.0)
                last = (
                    await first.until(lambda e: e.type == "availability.changed", within=5.0)
                ).id
        async with stream(http, a.auth(), last_event_id=last) as second:
            block = await second.until(lambda e: e.type == "block.created", within=5.0)
        # The block's event has the lower outbox id, and committed later.
        async with AsyncSession(engine) as check, check.begin():
            await db.set_tenant(check, uuid.UUID(a.id))
            ids = dict(
                (
                    await check.execute(
                        select(OutboxEvent.event_id, OutboxEvent.id).where(
                            OutboxEvent.event_id.in_(
                                [
                                    uuid.UUID(block.data["event_id"]),
                                    uuid.UUID(seen.data["event_id"]),
                                ]
                            )
                        )
                    )
                ).all()
            )
        assert ids[uuid.UUID(block.data["event_id"])] < ids[uuid.UUID(seen.data["event_id"])]
    finally:
        await engine.dispose()


async def test_a_position_no_longer_kept_asks_the_client_to_reload(
    http: httpx.AsyncClient,
) -> None:
    a = await full_agency(http, "A")
    async with stream(http, a.auth(), last_event_id="1-0") as s:
        reset = await s.until(lambda e: e.type == "reset", within=5.0)
    assert reset.data == {}


async def test_an_idle_stream_gets_heartbeats(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pms.api import events

    monkeypatch.setattr(events, "HEARTBEAT_SECONDS", 0.2)
    a = await full_agency(http, "A")
    async with stream(http, a.auth()) as s:
        async with asyncio.timeout(5):
            await s.heartbeats.wait()
