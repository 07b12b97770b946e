"""The outbox relay: committed events reach Celery and the live channel exactly once, whatever
dies when; consumers recognise a re-published event."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from pms import db
from pms.core.outbox import EventMessage
from pms.settings import Settings
from pms.tasks.relay import BATCH_SIZE, CeleryRedisPublisher, Relay
from tests.factories import Agency, full_agency
from tests.services import Worker, eventually, run_worker


@pytest.fixture
async def agency(client: httpx.AsyncClient) -> Agency:
    return await full_agency(client)


class LiveChannels:
    """Counts what the relay appended to the agencies' live streams, by outbox id (nobody
    deduplicates there, so these counts are the relay's own publishes). The stream names an
    event by its event id; the outbox table says which outbox row that is."""

    def __init__(self, url: str, admin: asyncpg.Connection) -> None:
        self._redis = aioredis.Redis.from_url(url, decode_responses=True)
        self._admin = admin
        self.ids: Counter[int] = Counter()

    async def refresh(self) -> None:
        by_event: Counter[str] = Counter()
        async for key in self._redis.scan_iter(match="pms:live:*"):
            for _, fields in await self._redis.xrange(key):
                by_event[json.loads(fields["m"])["event_id"]] += 1
        rows = await self._admin.fetch("SELECT id, event_id::text AS event_id FROM outbox_events")
        outbox_id = {r["event_id"]: r["id"] for r in rows}
        self.ids = Counter({outbox_id[e]: n for e, n in by_event.items()})

    async def stop(self) -> None:
        await self._redis.aclose()


@pytest.fixture
async def live(settings: Settings, admin: asyncpg.Connection) -> AsyncIterator[LiveChannels]:
    channels = LiveChannels(settings.require_redis_url(), admin)
    yield channels
    await channels.stop()


@pytest.fixture
def publisher(settings: Settings) -> CeleryRedisPublisher:
    # Imported only now: the Celery app reads the broker URL from the settings at import.
    from pms.tasks.app import celery_app

    return CeleryRedisPublisher(celery_app, settings.require_redis_url())


async def unpublished(admin: asyncpg.Connection) -> list[int]:
    rows = await admin.fetch("SELECT id FROM outbox_events WHERE published_at IS NULL ORDER BY id")
    return [r["id"] for r in rows]


async def queued_tasks(settings: Settings) -> int:
    """Celery messages waiting in the default queue (a Redis list) while no worker runs."""
    r = aioredis.Redis.from_url(settings.require_redis_url())
    try:
        return int(await r.llen("default"))
    finally:
        await r.aclose()


async def queued_events(settings: Settings) -> list[int]:
    """The outbox ids the Celery messages waiting in the default queue carry, in queue order
    (each message is one batch of the relay's)."""
    r = aioredis.Redis.from_url(settings.require_redis_url())
    try:
        raw = await r.lrange("default", 0, -1)
    finally:
        await r.aclose()
    ids = []
    for m in reversed(raw):  # LPUSHed: the oldest is last
        message = json.loads(m)
        assert message["headers"]["task"] == "pms.outbox.dispatch_batch"
        args, _, _ = json.loads(base64.b64decode(message["body"]))
        ids += [event["id"] for event in args[0]]
    return ids


def processed(w: Worker, event_id: str) -> list[dict[str, Any]]:
    return [
        line
        for line in w.log_lines()
        if line.get("event") == "outbox_event_processed" and line.get("event_id") == event_id
    ]


class Running:
    """A relay's run loop as a task of the test's event loop."""

    def __init__(self, relay: Relay, settings: Settings) -> None:
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(relay.run(settings, self.stop))

    async def close(self) -> None:
        self.stop.set()
        await self.task


async def test_a_booking_made_while_the_worker_is_down_is_processed_when_it_comes_back(
    client: httpx.AsyncClient,
    agency: Agency,
    admin: asyncpg.Connection,
    settings: Settings,
    publisher: CeleryRedisPublisher,
    tmp_path: Path,
) -> None:
    r = await client.post(
        "/api/v1/bookings",
        json={
            "property_id": agency.property_id,
            "check_in": "2032-03-01",
            "check_out": "2032-03-04",
            "guest_id": agency.guest_id,
        },
        headers=agency.auth(),
    )
    assert r.status_code == 201, r.text
    request_id = r.headers["x-request-id"]
    rows = await admin.fetch(
        "SELECT event_id::text, event_type FROM outbox_events WHERE request_id = $1", request_id
    )
    assert {row["event_type"] for row in rows} == {"booking.created", "availability.changed"}
    pending = len(await unpublished(admin))

    relay = Running(Relay(db.get_sessionmaker(), publisher), settings)
    try:
        await eventually(lambda: _none_left(admin), 10, "the relay to publish")
        # No worker runs: the task waits in the broker, one for the sweep's batch of events.
        assert 1 < pending < BATCH_SIZE
        assert await queued_tasks(settings) == 1
        env = {k: str(v) for k, v in _env(settings).items()}
        with ExitStack() as stack:
            worker = await asyncio.to_thread(
                stack.enter_context, run_worker(env, tmp_path, settings.require_redis_url())
            )
            for row in rows:
                lines = await eventually(
                    lambda row=row: _processed(worker, row["event_id"]), 30, "the worker"
                )
                assert len(lines) == 1
                # The request that made the change is named in the worker's log line too.
                assert lines[0]["request_id"] == request_id
            await asyncio.to_thread(stack.close)
    finally:
        await relay.close()


async def _none_left(admin: asyncpg.Connection) -> bool:
    return not await unpublished(admin)


async def _processed(w: Worker, event_id: str) -> list[dict[str, Any]]:
    return await asyncio.to_thread(processed, w, event_id)


def _env(settings: Settings) -> dict[str, str]:
    return {
        "DATABASE_URL": settings.require_database_url(),
        "REDIS_URL": settings.require_redis_url(),
        "ENVIRONMENT": "test",
        "DATA_DIR": str(settings.data_dir),
    }


class Failing:
    def publish(self, events: Sequence[EventMessage]) -> None:
        raise ConnectionError("broker unreachable")


class StuckThenKilled:
    """Blocks in its first publish until released, then fails: a relay that dies after
    claiming (and committing nothing) but before any publish went out."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def publish(self, events: Sequence[EventMessage]) -> None:
        self.entered.set()
        self.release.wait(30)
        raise RuntimeError("killed")


async def test_a_failed_publish_is_recorded_and_published_once_later(
    agency: Agency,
    admin: asyncpg.Connection,
    settings: Settings,
    publisher: CeleryRedisPublisher,
    live: LiveChannels,
) -> None:
    pending = await unpublished(admin)
    assert pending
    result = await Relay(db.get_sessionmaker(), Failing()).sweep()
    assert result.failed
    assert result.published == 0
    row = await admin.fetchrow(
        "SELECT attempts, last_error, published_at FROM outbox_events WHERE id = $1", pending[0]
    )
    assert row["attempts"] == 1
    assert "broker unreachable" in row["last_error"]
    assert row["published_at"] is None
    assert await unpublished(admin) == pending

    result = await Relay(db.get_sessionmaker(), publisher).sweep()
    assert result.published == len(pending)
    assert not result.failed
    assert await unpublished(admin) == []
    await eventually(lambda: _all_seen(live, pending), 5, "the live messages")
    assert all(live.ids[i] == 1 for i in pending), live.ids
    assert await queued_events(settings) == pending


async def _all_seen(live: LiveChannels, ids: list[int]) -> bool:
    await live.refresh()
    return all(live.ids[i] for i in ids)


async def test_a_relay_killed_between_commit_and_publish_publishes_exactly_once_afterwards(
    agency: Agency,
    admin: asyncpg.Connection,
    settings: Settings,
    publisher: CeleryRedisPublisher,
    live: LiveChannels,
) -> None:
    pending = await unpublished(admin)  # committed by the API calls that built the agency
    stuck = StuckThenKilled()
    first = Running(Relay(db.get_sessionmaker(), stuck), settings)
    assert await asyncio.to_thread(stuck.entered.wait, 10)
    first.task.cancel()  # dies holding its claim, before anything was published
    with pytest.raises(asyncio.CancelledError):
        await first.task
    stuck.release.set()
    assert await unpublished(admin) == pending

    second = Running(Relay(db.get_sessionmaker(), publisher), settings)
    try:
        await eventually(lambda: _none_left(admin), 10, "the restarted relay to publish")
        await eventually(lambda: _all_seen(live, pending), 5, "the live messages")
    finally:
        await second.close()
    assert all(live.ids[i] == 1 for i in pending), live.ids
    assert sum(live.ids.values()) == len(pending)
    assert await queued_events(settings) == pending


async def test_two_relays_publish_each_event_once(
    admin: asyncpg.Connection,
    settings: Settings,
    publisher: CeleryRedisPublisher,
    live: LiveChannels,
) -> None:
    agencies = [uuid.uuid4() for _ in range(3)]
    await admin.execute(
        """
        INSERT INTO outbox_events (agency_id, event_type, aggregate_type, aggregate_id, payload)
        SELECT ($1::uuid[])[1 + n % 3], 'test.event', 'test', n::text, jsonb_build_object('n', n)
        FROM generate_series(1, 300) AS n
        """,
        agencies,
    )
    pending = await unpublished(admin)
    assert len(pending) == 300
    # Small batches so the two relays interleave and contend for the same rows.
    relays = [
        Running(Relay(db.get_sessionmaker(), publisher, batch_size=7), settings) for _ in range(2)
    ]
    try:
        await eventually(lambda: _none_left(admin), 30, "both relays to drain the outbox")
        await eventually(lambda: _all_seen(live, pending), 10, "the live messages")
    finally:
        for r in relays:
            await r.close()
    assert all(live.ids[i] == 1 for i in pending), [i for i in pending if live.ids[i] != 1]
    # Every event in exactly one task (two relays: not in one order overall).
    assert sorted(await queued_events(settings)) == pending
    assert await queued_tasks(settings) >= 300 // 7


async def test_notify_wakes_the_relay_without_waiting_for_the_sweep(
    client: httpx.AsyncClient,
    agency: Agency,
    admin: asyncpg.Connection,
    settings: Settings,
    publisher: CeleryRedisPublisher,
    live: LiveChannels,
) -> None:
    relay = Running(Relay(db.get_sessionmaker(), publisher, sweep_seconds=3600), settings)
    try:
        await eventually(lambda: _none_left(admin), 10, "the first sweep")
        r = await client.post(
            "/api/v1/blocks",
            json={"property_id": agency.property_id, "start": "2032-05-01", "end": "2032-05-03"},
            headers=agency.auth(),
        )
        assert r.status_code == 201, r.text
        new = await admin.fetch(
            "SELECT id FROM outbox_events WHERE request_id = $1", r.headers["x-request-id"]
        )
        assert len(new) == 2
        await eventually(lambda: _all_seen(live, [n["id"] for n in new]), 5, "the NOTIFY")
    finally:
        await relay.close()


async def test_a_republished_event_is_processed_once(
    agency: Agency,
    admin: asyncpg.Connection,
    settings: Settings,
    publisher: CeleryRedisPublisher,
    worker: Worker,
) -> None:
    relay = Relay(db.get_sessionmaker(), publisher)
    await relay.sweep()
    event_id = await admin.fetchval("SELECT event_id::text FROM outbox_events ORDER BY id LIMIT 1")
    await eventually(lambda: _processed(worker, event_id), 30, "the first delivery")
    # As if the relay had died after publishing but before its commit marked the event.
    await admin.execute(
        "UPDATE outbox_events SET published_at = NULL WHERE event_id = $1::uuid", event_id
    )
    assert (await relay.sweep()).published == 1
    duplicate = await eventually(lambda: _duplicates(worker, event_id), 30, "the second delivery")
    assert len(duplicate) == 1
    assert len(await _processed(worker, event_id)) == 1


async def _duplicates(w: Worker, event_id: str) -> list[dict[str, Any]]:
    def read() -> list[dict[str, Any]]:
        return [
            line
            for line in w.log_lines()
            if line.get("event") == "outbox_event_duplicate" and line.get("event_id") == event_id
        ]

    return await asyncio.to_thread(read)


def test_the_schedule_names_registered_tasks(settings: Settings) -> None:
    from pms.tasks.app import celery_app

    celery_app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert {"pms.outbox.sweep", "pms.bookings.expire_holds"} <= scheduled
    # Every scheduled name is a task some worker actually has (a typo would never run).
    assert scheduled <= set(celery_app.tasks)


async def test_an_event_whose_handler_fails_is_retried_until_it_is_processed(
    agency: Agency,
    admin: asyncpg.Connection,
    settings: Settings,
    publisher: CeleryRedisPublisher,
    worker: Worker,
) -> None:
    """A handler that fails (here: a table it reads is away, as during a failover) does not lose
    its event: the dispatch is retried with a growing delay and processes it once it can."""
    event_id = await admin.fetchval(
        "SELECT event_id::text FROM outbox_events"
        " WHERE event_type IN ('ari.changed', 'availability.changed') ORDER BY id LIMIT 1"
    )
    assert event_id is not None
    # An event of the same batch (one sweep) whose handlers do not read the table.
    other = await admin.fetchval(
        "SELECT event_id::text FROM outbox_events"
        " WHERE event_type NOT IN ('ari.changed', 'availability.changed') ORDER BY id LIMIT 1"
    )
    assert other is not None
    await admin.execute("ALTER TABLE channel_mappings RENAME TO channel_mappings_away")
    try:
        assert (await Relay(db.get_sessionmaker(), publisher).sweep()).published > 1
        # The rest of the batch is not held up by the failing event.
        await eventually(
            lambda: asyncio.to_thread(processed, worker, other), 30, "the rest of the batch"
        )

        def failures() -> list[dict[str, Any]]:
            return [
                line
                for line in worker.log_lines()
                if line.get("event") == "outbox_event_failed" and line.get("event_id") == event_id
            ]

        async def failed_twice() -> bool:
            return len(await asyncio.to_thread(failures)) >= 2

        await eventually(failed_twice, 30, "two failed attempts")
        assert not processed(worker, event_id)
    finally:
        await admin.execute("ALTER TABLE channel_mappings_away RENAME TO channel_mappings")
    found = await eventually(
        lambda: asyncio.to_thread(processed, worker, event_id), 30, "the event processed"
    )
    assert len(found) == 1
    attempts = [line["attempt"] for line in failures()]
    assert attempts == list(range(1, len(attempts) + 1)), attempts
    assert all(line["error"] == "ProgrammingError" for line in failures()), failures()
