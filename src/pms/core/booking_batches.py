"""Concurrent booking creates of one actor, written together (group commit).

A create that arrives while another of the same actor (user, agency, role) is being written
waits for it, then goes to the database with every other create that waited meanwhile: one
transaction, the reads and the write of ``bookings.create_many`` shared by all of them, one
commit and one bump of the agency's generation. A create that finds nothing in progress is
written at once, alone, so batching never delays a request on a quiet system; under load the
batches form by themselves, as large as the requests that arrived during the previous write.

What a batch cannot write is answered None, and the caller creates that booking on its own
with ``bookings.create``, which gives the error (404, 422, 409 naming the clash) or the
booking:
- an item the rules refuse is skipped by ``create_many``; the others are written;
- a batch that clashes (with a booking or block, or within itself) or repeats a channel
  booking is rolled back and written again in halves, and so on: only the bookings that clash
  are left to ``create``, which says what they clash with;
- a batch that failed otherwise (a lost connection) was not committed: each item is retried
  on its own.

Only a failure of the commit itself is passed on as it is, because then nobody knows whether
the bookings were written: retrying them could write them twice.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field

from prometheus_client import Histogram
from sqlalchemy.exc import IntegrityError

from pms.core import bookings, generations
from pms.core.tenancy import Actor
from pms.db import get_sessionmaker, publish_writes, scope_now, will_publish
from pms.logs import get_logger, request_id_var
from pms.models.booking import Booking
from pms.models.guest import Guest
from pms.redis_client import get_redis
from pms.schemas.booking import BookingCreate

Created = tuple[Booking, Guest | None]
_log = get_logger(__name__)
BATCH_SIZE = Histogram(
    "pms_booking_batch_size",
    "Bookings per batch written together (pms.core.booking_batches)",
    buckets=(1, 2, 4, 8, 16, 24, 32),
)

# At most this many creates in one transaction (a short one: a few milliseconds); more waiting
# go into the next one, which another writer can already be building.
MAX_BATCH = 32
# Batches of one actor written at the same time: while one waits for the database, the next
# is read and built. (Two batches that clash wait for each other in the exclusion constraint,
# and the loser is then written again in halves, like any batch that clashes.)
WRITERS = 3


@dataclass
class _Waiting:
    item: bookings.NewBooking
    signed_in_under: str  # the sign-in generation its token was resolved under
    answer: asyncio.Future[Created | None] = field(repr=False)


class CommitFailed(Exception):
    """The commit of a batch failed: its bookings may or may not have been written."""


# What a batch did with one create: written, left to ``bookings.create`` (None), or unknown.
_Outcome = Created | None | CommitFailed


class BookingBatcher:
    """The batches of one event loop (``batcher()``)."""

    def __init__(self) -> None:
        # What waits to be written, per actor; an actor has an entry exactly while it has
        # tasks writing (``_writers``).
        self._waiting: dict[Actor, list[_Waiting]] = {}
        self._writers: dict[Actor, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0  # written so far (batches whose write was attempted)
        self.items = 0

    async def create(
        self, actor: Actor, signed_in_under: str, data: BookingCreate
    ) -> Created | None:
        """The booking and guest, or None: create it with ``bookings.create`` instead.
        ``actor`` is what a token resolved to under the sign-in generation ``signed_in_under``
        (``auth.remembered``); the batch writes it only if that is still the current one, so a
        logout, a removed member or a changed role counts from the next batch on. Raises
        ``CommitFailed`` when the commit of its batch failed."""
        waiting = _Waiting(
            bookings.NewBooking(data, request_id_var.get()),
            signed_in_under,
            asyncio.get_running_loop().create_future(),
        )
        self._waiting.setdefault(actor, []).append(waiting)
        if self._writers.get(actor, 0) < WRITERS:
            self._writers[actor] = self._writers.get(actor, 0) + 1
            task = asyncio.create_task(self._drain(actor))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await waiting.answer

    async def _drain(self, actor: Actor) -> None:
        queue = self._waiting[actor]
        batch: list[_Waiting] = []
        try:
            while queue:
                # Sign-in first: the creates that arrive during this round trip join the batch.
                current = await generations.read(get_redis(), [generations.AUTH])
                batch = queue[:MAX_BATCH]
                del queue[:MAX_BATCH]
                if not batch:  # another writer took them meanwhile
                    continue
                answers = await self._write(actor, batch, None if current is None else current[0])
                for w, answer in zip(batch, answers, strict=True):
                    if w.answer.done():  # (its request may have been cancelled meanwhile)
                        continue
                    if isinstance(answer, CommitFailed):
                        w.answer.set_exception(answer)
                    else:
                        w.answer.set_result(answer)
        finally:
            self._writers[actor] -= 1
            if not self._writers[actor]:
                del self._writers[actor], self._waiting[actor]
                batch += queue
            for w in batch:  # left over only if this task was cancelled
                if not w.answer.done():
                    w.answer.cancel()

    async def _write(
        self, actor: Actor, waiting: list[_Waiting], signed_in: str | None
    ) -> list[_Outcome]:
        """``signed_in``: the current sign-in generation (None: unknown, Redis unavailable)."""
        answers: list[_Outcome] = [None] * len(waiting)
        valid = [
            n
            for n, w in enumerate(waiting)
            if signed_in is not None and w.signed_in_under == signed_in
        ]
        if valid:
            written = await self._write_valid(actor, [waiting[n] for n in valid])
            for n, answer in zip(valid, written, strict=True):
                answers[n] = answer
        return answers

    async def _write_valid(self, actor: Actor, batch: list[_Waiting]) -> list[_Outcome]:
        """Write ``batch``; if it clashes, write each half again (and so on), so that only the
        bookings that clash are left to ``bookings.create``."""
        try:
            return list(await self._transaction(actor, batch))
        except CommitFailed as exc:
            return [exc] * len(batch)
        except IntegrityError:
            if len(batch) == 1:
                return [None]
        half = (len(batch) + 1) // 2
        return [
            *await self._write_valid(actor, batch[:half]),
            *await self._write_valid(actor, batch[half:]),
        ]

    async def _transaction(self, actor: Actor, batch: list[_Waiting]) -> list[Created | None]:
        """One transaction for ``batch``. Raises ``IntegrityError`` for a clash (rolled back),
        ``CommitFailed`` if the commit failed; any other failure answers None for all."""
        self.batches += 1
        self.items += len(batch)
        BATCH_SIZE.observe(len(batch))
        committing = False
        session = get_sessionmaker()()
        try:
            will_publish(session)
            async with session.begin():
                await scope_now(session, actor.user_id, actor.agency_id)
                answers = await bookings.create_many(session, actor, [w.item for w in batch])
                committing = True
        except Exception as exc:
            await session.close()
            if committing:
                _log.error("booking_batch_commit_failed", size=len(batch), exc_info=True)
                raise CommitFailed() from exc
            if isinstance(exc, IntegrityError):  # a clash or a duplicate channel booking
                _log.debug("booking_batch_clash", size=len(batch))
                raise
            _log.warning("booking_batch_failed", size=len(batch), exc_info=True)
            return [None] * len(batch)
        try:
            await publish_writes(session)
        finally:
            await session.close()
        return answers


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, BookingBatcher] = (
    weakref.WeakKeyDictionary()
)


def batcher() -> BookingBatcher:
    """The running event loop's batcher (its tasks and futures belong to that loop)."""
    loop = asyncio.get_running_loop()
    found = _batchers.get(loop)
    if found is None:
        found = _batchers[loop] = BookingBatcher()
    return found
