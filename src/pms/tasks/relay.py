"""The outbox relay: turns committed outbox events into Celery tasks and live-stream messages.

Woken by NOTIFY on channel ``outbox`` (the insert trigger fires on commit) and sweeping every few
seconds as a safety net, it claims unpublished events in id order with ``FOR UPDATE SKIP
LOCKED``, publishes them, and marks them published in the same transaction. So:

- an event is marked only after its publish succeeded: a relay that dies before that leaves it
  unpublished and the next sweep (of any relay) publishes it;
- two relays never publish the same event: the second skips rows the first has locked, and once
  the first commits they are no longer unpublished.

A relay that dies after publishing but before its commit publishes the event again later; the
consumers are idempotent by event id (``pms.tasks.consumers``) and the live stream drops ids it
has already sent.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
import redis
from celery import Celery
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pms import db
from pms.core import outbox
from pms.core.outbox import EventMessage
from pms.logs import configure_logging, get_logger, request_id_var
from pms.models.outbox import OutboxEvent
from pms.settings import Settings, get_settings

SWEEP_SECONDS = 5.0
BATCH_SIZE = 100
MAX_BACKOFF_SECONDS = 30.0
_ERROR_CHARS = 2000

# What a database outage looks like: SQLAlchemy wraps driver errors, the LISTEN connection
# raises asyncpg's own.
_DB_DOWN: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)

_log = get_logger("pms.relay")


class Publisher(Protocol):
    """Publishes one event; blocking (it is called off the event loop). Raises on failure."""

    def publish(self, event: EventMessage) -> None: ...


class CeleryRedisPublisher:
    """(a) a ``pms.outbox.dispatch`` task whose id is the event id, so a re-publish is
    recognisable as the same task; (b) an entry in the agency's live stream."""

    def __init__(self, celery_app: Celery, redis_url: str) -> None:
        self._celery = celery_app
        self._redis = redis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=5)

    def publish(self, event: EventMessage) -> None:
        # The request id that caused the change follows the task (the before_task_publish
        # signal copies it into the headers), so the worker's log lines correlate with the API's.
        token = request_id_var.set(event["request_id"])
        try:
            self._celery.send_task(
                outbox.DISPATCH_TASK,
                args=[event],
                task_id=event["event_id"],
                # Fail fast and let the relay back off; and nobody waits for a result (with a
                # result, the Redis backend would subscribe to every task id it ever sent).
                retry=False,
                ignore_result=True,
            )
        finally:
            request_id_var.reset(token)
        if event["agency_id"] is not None:
            # A stream, not pub/sub: its entry ids follow the order of publication (not of the
            # outbox ids, which follow insertion), so a client resuming after an entry gets
            # everything published after it, gaplessly.
            self._redis.xadd(
                outbox.live_stream(event["agency_id"]),
                {"m": json.dumps(outbox.live_message(event), separators=(",", ":"))},
                maxlen=outbox.LIVE_STREAM_MAXLEN,
                approximate=True,
            )

    def close(self) -> None:
        self._redis.close()


def _publish_in_order(publisher: Publisher, events: Sequence[EventMessage]) -> tuple[int, str]:
    """Publish until the first failure: returns how many were published and that failure.
    Stopping there keeps each relay's publishing in id order."""
    for i, event in enumerate(events):
        try:
            publisher.publish(event)
        except Exception as exc:  # noqa: BLE001 - any failure: record it, retry later
            return i, f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]
    return len(events), ""


@dataclass
class SweepResult:
    published: int = 0
    failed: bool = False


class Relay:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        publisher: Publisher,
        *,
        batch_size: int = BATCH_SIZE,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._publisher = publisher
        self._batch_size = batch_size
        self._sweep_seconds = sweep_seconds

    async def sweep(self) -> SweepResult:
        """Publish every unpublished event this relay can claim, batch by batch, stopping at
        the first publish failure (the caller backs off)."""
        result = SweepResult()
        while True:
            claimed, published, failed = await self._one_batch()
            result.published += published
            if failed:
                result.failed = True
                return result
            if claimed < self._batch_size:
                return result

    async def _one_batch(self) -> tuple[int, int, bool]:
        async with self._sessionmaker() as session, session.begin():
            await db.system_access(session)
            rows = (
                await session.scalars(
                    select(OutboxEvent)
                    .where(OutboxEvent.published_at.is_(None))
                    .order_by(OutboxEvent.id)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0, 0, False
            events = [outbox.message(r) for r in rows]
            # Publishing blocks (Celery's and redis-py's clients are synchronous).
            done, error = await asyncio.to_thread(_publish_in_order, self._publisher, events)
            ids = [r.id for r in rows]
            if done:
                await session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id.in_(ids[:done]))
                    .values(published_at=func.now())
                    .execution_options(synchronize_session=False)
                )
            if error:
                await session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id == ids[done])
                    .values(attempts=OutboxEvent.attempts + 1, last_error=error)
                    .execution_options(synchronize_session=False)
                )
                _log.warning("outbox_publish_failed", outbox_id=ids[done], error=error)
            if done:
                _log.info("outbox_published", count=done, first_id=ids[0], last_id=ids[done - 1])
            return len(rows), done, bool(error)

    async def run(self, settings: Settings, stop: asyncio.Event) -> None:
        """Until ``stop`` is set: sweep on every NOTIFY and at least every ``sweep_seconds``;
        after a failure, back off exponentially (up to ``MAX_BACKOFF_SECONDS``) without
        reacting to NOTIFYs, which would only repeat the failure."""
        wake = asyncio.Event()
        listener: Any = None
        failures = 0
        try:
            while not stop.is_set():
                if listener is None or listener.is_closed():
                    listener = await self._listen(settings, wake)
                wake.clear()
                try:
                    failed = (await self.sweep()).failed
                except _DB_DOWN as exc:
                    _log.warning("outbox_sweep_failed", error=f"{type(exc).__name__}: {exc}")
                    failed = True
                failures = failures + 1 if failed else 0
                if failures:
                    delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** (failures - 1))
                    await _wait_any([stop], delay)
                else:
                    await _wait_any([stop, wake], self._sweep_seconds)
        finally:
            if listener is not None and not listener.is_closed():
                await listener.close()

    async def _listen(self, settings: Settings, wake: asyncio.Event) -> Any:
        try:
            conn = await db.listen(settings, "outbox", lambda _: wake.set())
        except _DB_DOWN as exc:
            # The periodic sweep still runs; the next round tries to listen again.
            _log.warning("outbox_listen_failed", error=f"{type(exc).__name__}: {exc}")
            return None
        _log.info("relay_listening", channel="outbox")
        return conn


async def _wait_any(events: list[asyncio.Event], seconds: float) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


_worker_publisher: CeleryRedisPublisher | None = None


async def sweep_once() -> int:
    """One sweep with the process's own engine: the beat task, for when no relay runs."""
    global _worker_publisher
    from pms.tasks.app import celery_app

    if _worker_publisher is None:
        _worker_publisher = CeleryRedisPublisher(celery_app, get_settings().require_redis_url())
    return (await Relay(db.get_sessionmaker(), _worker_publisher).sweep()).published


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """The ``pms relay`` process: its own small engine and publisher, until ``stop``."""
    from pms.tasks.app import celery_app

    engine = db.create_engine(
        settings.require_database_url(), app_role=settings.db_app_role, pool_size=2, max_overflow=0
    )
    publisher = CeleryRedisPublisher(celery_app, settings.require_redis_url())
    try:
        _log.info("relay_started")
        await Relay(async_sessionmaker(engine, expire_on_commit=False), publisher).run(
            settings, stop
        )
    finally:
        publisher.close()
        await engine.dispose()
        _log.info("relay_stopped")


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, stop.set)
        await serve(settings, stop)

    asyncio.run(_main())
