"""The outbox relay: turns committed outbox events into Celery tasks and live-stream messages.

Woken by NOTIFY on channel ``outbox`` (the insert trigger fires on commit; the relay waits
``COALESCE_SECONDS`` more so that a stream of commits goes out in batches) and sweeping every
few seconds as a safety net, it claims unpublished events in id order with ``FOR UPDATE SKIP
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
from sqlalchemy import BigInteger, Table, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pms import db
from pms.core import outbox
from pms.core.outbox import EventMessage
from pms.logs import configure_logging, get_logger, request_id_var
from pms.models.outbox import OutboxEvent
from pms.settings import Settings, get_settings

SWEEP_SECONDS = 5.0
# After a NOTIFY, the relay waits this long before it sweeps, so the events committed meanwhile
# go out in the same batch (one task for all of them): under a steady stream of changes this
# divides the relay's and the workers' cost per event; an event waits at most this much longer.
COALESCE_SECONDS = 0.05
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
    """Publishes a batch of events (in id order) as one; blocking (it is called off the event
    loop). Raises on failure: then none of them counts as published."""

    def publish(self, events: Sequence[EventMessage]) -> None: ...


class CeleryRedisPublisher:
    """(a) one ``pms.outbox.dispatch_batch`` task carrying the batch's events (the worker
    consumes them in order, each idempotent by its event id, so a re-publish is harmless);
    (b) an entry per event in its agency's live stream, all in one round trip.

    One task per batch, not per event: a task costs the relay (building and sending the
    message) and the worker (receiving, acknowledging, its bookkeeping) far more than
    consuming an ``ari.changed`` event does."""

    def __init__(self, celery_app: Celery, redis_url: str) -> None:
        self._celery = celery_app
        self._redis = redis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=5)

    def publish(self, events: Sequence[EventMessage]) -> None:
        if not events:
            return
        # The request id that caused the first change follows the task (the before_task_publish
        # signal copies it into the headers); the worker binds each event's own while it
        # consumes it, so its log lines correlate with the API's.
        token = request_id_var.set(events[0]["request_id"])
        try:
            self._celery.send_task(
                outbox.DISPATCH_BATCH_TASK,
                args=[list(events)],
                # Fail fast and let the relay back off; and nobody waits for a result (with a
                # result, the Redis backend would subscribe to every task id it ever sent).
                retry=False,
                ignore_result=True,
            )
        finally:
            request_id_var.reset(token)
        live = [e for e in events if e["agency_id"] is not None]
        if not live:
            return
        # A stream, not pub/sub: its entry ids follow the order of publication (not of the
        # outbox ids, which follow insertion), so a client resuming after an entry gets
        # everything published after it, gaplessly.
        pipe = self._redis.pipeline(transaction=False)
        for event in live:
            pipe.xadd(
                outbox.live_stream(event["agency_id"]),  # type: ignore[arg-type]
                {"m": json.dumps(outbox.live_message(event), separators=(",", ":"))},
                maxlen=outbox.LIVE_STREAM_MAXLEN,
                approximate=True,
            )
        pipe.execute()

    def close(self) -> None:
        self._redis.close()


def _publish(publisher: Publisher, events: Sequence[EventMessage]) -> str:
    """Publish the batch: "" or the failure."""
    try:
        publisher.publish(events)
    except Exception as exc:  # noqa: BLE001 - any failure: record it, retry later
        return f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]
    return ""


@dataclass
class SweepResult:
    published: int = 0
    failed: bool = False


# Built once (a sweep per NOTIFY: under a steady stream of changes, one per event): the
# unpublished events in id order, claimed; marking them published; recording a failure.
_TABLE: Table = OutboxEvent.__table__  # type: ignore[assignment]
_OUTBOX = _TABLE.c
_CLAIM = (
    select(*_OUTBOX)
    .where(_OUTBOX.published_at.is_(None))
    .order_by(_OUTBOX.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_PUBLISHED = (
    update(_TABLE)
    .where(_OUTBOX.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))
    .values(published_at=func.now())
)
_FAILED = (
    update(_TABLE)
    .where(_OUTBOX.id == bindparam("failed_id"))
    .values(attempts=_OUTBOX.attempts + 1, last_error=bindparam("failed_error"))
)


class Relay:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        publisher: Publisher,
        *,
        batch_size: int = BATCH_SIZE,
        sweep_seconds: float = SWEEP_SECONDS,
        coalesce_seconds: float = COALESCE_SECONDS,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._publisher = publisher
        self._batch_size = batch_size
        self._sweep_seconds = sweep_seconds
        self._coalesce_seconds = coalesce_seconds

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
            rows = (await session.execute(_CLAIM, {"limit": self._batch_size})).all()
            if not rows:
                return 0, 0, False
            events = [outbox.message(r) for r in rows]
            # Publishing blocks (Celery's and redis-py's clients are synchronous).
            error = await asyncio.to_thread(_publish, self._publisher, events)
            ids = [r.id for r in rows]
            if error:
                # Recorded on the first: the batch is published again, in order, next time.
                await session.execute(_FAILED, {"failed_id": ids[0], "failed_error": error})
                _log.warning("outbox_publish_failed", outbox_id=ids[0], error=error)
                return len(rows), 0, True
            await session.execute(_PUBLISHED, {"ids": ids})
            _log.info("outbox_published", count=len(ids), first_id=ids[0], last_id=ids[-1])
            return len(rows), len(ids), False

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
                    if wake.is_set() and self._coalesce_seconds > 0:
                        await _wait_any([stop], self._coalesce_seconds)
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
