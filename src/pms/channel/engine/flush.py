"""Flushing one platform account: every dirty listing of its connections in one task (a
connection, or all of an agency's hotels on a platform whose connections share one account:
``scope``). A round
reads the dirty ranges, the CURRENT ARI and what the platform acknowledged for all of them in
three statements, turns them into platform values, diffs, pushes the runs in batches, then
records the acknowledged nights, the sync log, health and the cleared ranges in one
transaction. Rounds repeat while changes keep arriving.

Flushes of one account never overlap (a PostgreSQL advisory lock), and each reads the state at
send time, so a retry or a late task can never overwrite a newer state with an older one. A
crash between a push and its record loses nothing: the dirty range stays until the record
commits, and pushing the same values again is harmless."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Date, Uuid, column, or_, select, text, update, values
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pms import db
from pms.channel import alerting, synclog
from pms.channel.adapters import adapter_for, fidelity_of
from pms.channel.adapters.base import (
    Adapter,
    Batch,
    CredentialsRefused,
    NightValues,
    PartlyApplied,
    PlatformError,
    counting_requests,
)
from pms.channel.engine import dirty, retries
from pms.channel.engine.breaker import CircuitOpen
from pms.channel.engine.calls import Account, Exhausted, call
from pms.channel.engine.diff import changed_runs, nights_of
from pms.channel.engine.scope import FlushScope, scope_of
from pms.channel.engine.values import platform_values
from pms.channel.metrics import PUSH_FAILURES, PUSH_LATENCY
from pms.core import ari_store
from pms.logs import get_logger
from pms.models.channel import (
    ChannelConnection,
    ChannelDeadLetter,
    ChannelDirty,
    ChannelMapping,
    ChannelNight,
    ConnectionStatus,
)
from pms.models.property import Property
from pms.settings import Settings

log = get_logger(__name__)
_STOPPED = (ConnectionStatus.PAUSED, ConnectionStatus.REVOKED)
CONNECTION_TOUCH = timedelta(seconds=5)
# A round takes the account's oldest dirty listings, up to this many (a full sync of a large
# account goes out in several rounds, each recorded when it ends).
ROUND_LISTINGS = 100
# A flush keeps going while changes keep arriving, but hands over after this long.
ROUND_BUDGET_SECONDS = 30.0
# Listings pushed at the same time within a round (the account's token bucket still rules).
PUSH_CONCURRENCY = 8


@dataclass
class FlushReport:
    outcome: str = "idle"  # idle | busy | pushed | unchanged | stopped | dead_letter | circuit_open
    calls: int = 0
    nights: int = 0
    retry_in: float | None = None
    platform: str | None = None
    listings: int = 0
    more: bool = False  # the time budget ran out with work left
    connections: int = 0  # the most connections one round carried
    account: str | None = None  # the account's key (``FlushScope.key``)
    # Connections that stopped (credentials refused) or whose circuit opened: their outcome.
    halted: dict[uuid.UUID, str] = field(default_factory=dict)


def _upsert_nights() -> Any:
    stmt = insert(ChannelNight)
    values = (
        "available",
        "price_minor",
        "min_stay",
        "max_stay",
        "closed_to_arrival",
        "closed_to_departure",
        "pushed_at",
    )
    return stmt.on_conflict_do_update(
        index_elements=["mapping_id", "night"], set_={c: stmt.excluded[c] for c in values}
    )


# One statement for any number of nights (executemany: compiled once, sent in batches).
_UPSERT_NIGHTS = _upsert_nights()


def acknowledged_row(
    mapping: ChannelMapping, night: date, values: NightValues, at: datetime
) -> dict[str, object]:
    return {
        "mapping_id": mapping.id,
        "night": night,
        "agency_id": mapping.agency_id,
        "available": values.available,
        "price_minor": values.price_minor,
        "min_stay": values.min_stay,
        "max_stay": values.max_stay,
        "closed_to_arrival": values.closed_to_arrival,
        "closed_to_departure": values.closed_to_departure,
        "pushed_at": at,
    }


async def acknowledge(
    session: AsyncSession, mapping: ChannelMapping, nights: dict[date, NightValues]
) -> None:
    """Record what the platform now holds for these nights (the next diff's base)."""
    if not nights:
        return
    at = datetime.now(UTC)
    await session.execute(
        _UPSERT_NIGHTS, [acknowledged_row(mapping, n, v, at) for n, v in nights.items()]
    )


async def acknowledged(
    session: AsyncSession, mapping_id: uuid.UUID, start: date, end: date
) -> dict[date, NightValues]:
    t = ChannelNight.__table__.c
    rows = await session.execute(
        select(
            t.night,
            t.available,
            t.price_minor,
            t.min_stay,
            t.max_stay,
            t.closed_to_arrival,
            t.closed_to_departure,
        ).where(t.mapping_id == mapping_id, t.night >= start, t.night < end)
    )
    return {r[0]: NightValues(*r[1:]) for r in rows}


async def acknowledged_many(
    session: AsyncSession, windows: list[tuple[uuid.UUID, date, date]]
) -> dict[uuid.UUID, dict[date, NightValues]]:
    """``acknowledged`` for many (mapping, start, end) windows in one statement."""
    if not windows:
        return {}
    t = ChannelNight.__table__.c
    w = values(column("m", Uuid), column("s", Date), column("e", Date), name="w").data(windows)
    rows = await session.execute(
        select(
            t.mapping_id,
            t.night,
            t.available,
            t.price_minor,
            t.min_stay,
            t.max_stay,
            t.closed_to_arrival,
            t.closed_to_departure,
        ).join(w, (t.mapping_id == w.c.m) & (t.night >= w.c.s) & (t.night < w.c.e))
    )
    out: dict[uuid.UUID, dict[date, NightValues]] = {}
    for r in rows:
        out.setdefault(r[0], {})[r[1]] = NightValues(*r[2:])
    return out


async def wanted(
    session: AsyncSession, mapping: ChannelMapping, start: date, end: date
) -> dict[date, NightValues]:
    rows = await ari_store.stored_rows(session, mapping.rate_plan_id, start, end)
    fidelity = fidelity_of(mapping.platform)
    return {r.day: platform_values(r, mapping, fidelity) for r in rows}


def _batch_nights(batch: Batch) -> dict[date, NightValues]:
    return {n: run.values for run in batch.runs for n in nights_of(run)}


async def flush(mapping_id: uuid.UUID, settings: Settings) -> FlushReport:
    """Push what is dirty for this one mapping now, waiting for a flush of its account that is
    under way (reconciliation and tests call this; the tasks flush whole accounts)."""
    async with db.get_sessionmaker()() as s, s.begin():
        await db.system_access(s)
        connection_id = (
            await s.execute(
                select(ChannelMapping.connection_id).where(ChannelMapping.id == mapping_id)
            )
        ).scalar_one_or_none()
    if connection_id is None:
        return FlushReport("idle")
    return await flush_account(connection_id, settings, only={mapping_id}, wait=True)


async def flush_account(
    connection_id: uuid.UUID,
    settings: Settings,
    *,
    only: set[uuid.UUID] | None = None,
    wait: bool = False,
    budget_seconds: float = ROUND_BUDGET_SECONDS,
) -> FlushReport:
    """Push what is dirty for the listings of the connection's account (``scope``: the
    connection, or every connection of the agency on a platform whose connections share one
    account), or for ``only`` these listings of the connection. ``busy`` if another flush
    holds the account and ``wait`` is false: that one loops until nothing is left, and looks
    once more after releasing the account. ``more``: work is left (the time budget ran out,
    or changes arrived after the last round); the caller schedules another flush."""
    async with db.get_sessionmaker()() as holder, holder.begin():
        await db.system_access(holder)
        found = (
            await holder.execute(
                select(ChannelConnection.platform, ChannelConnection.agency_id).where(
                    ChannelConnection.id == connection_id
                )
            )
        ).first()
        if found is None:
            return FlushReport("idle")
        account = scope_of(found.platform, found.agency_id, connection_id)
        key = {"k": f"channel-flush:{account.key}"}
        if wait:
            await holder.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), key)
        elif not (
            await holder.execute(
                text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))"), key
            )
        ).scalar_one():
            return FlushReport("busy", platform=account.platform)
        # ``only``: those listings of this connection, under the account's lock.
        carried = (
            account
            if only is None
            else FlushScope(account.platform, account.agency_id, connection_id)
        )
        report = await _rounds(carried, settings, only, budget_seconds)
        report.account = account.key
    # The lock is released. A flush that found it busy while this one ran has left its changes
    # to this one; those committed after its last read are seen here and handed on (not those
    # of connections that stopped or whose circuit opened: their retry is scheduled apart).
    if only is None and not report.more:
        report.more = await _still_dirty(account, report.halted)
    return report


async def _rounds(
    scope: FlushScope,
    settings: Settings,
    only: set[uuid.UUID] | None,
    budget_seconds: float,
) -> FlushReport:
    report = FlushReport(platform=scope.platform)
    deadline = time.monotonic() + budget_seconds
    while True:
        step = await _round(scope, settings, only, report.halted)
        report.calls += step.calls
        report.nights += step.nights
        report.listings += step.listings
        report.connections = max(report.connections, step.connections)
        report.halted |= step.halted
        if step.retry_in is not None:
            report.retry_in = min(report.retry_in or step.retry_in, step.retry_in)
        if step.outcome != "idle":
            report.outcome = _worse(report.outcome, step.outcome)
        # A connection that stopped or whose circuit opened is left out of the next rounds;
        # the others carry on. Nothing left: done.
        if step.outcome == "idle" or (
            scope.connection_id is not None and scope.connection_id in step.halted
        ):
            return report
        if time.monotonic() > deadline:
            report.more = True
            return report


async def _still_dirty(scope: FlushScope, halted: dict[uuid.UUID, str]) -> bool:
    async with db.transaction(None) as s:
        await db.system_access(s)
        stmt = (
            select(ChannelDirty.mapping_id)
            .join(ChannelMapping, ChannelMapping.id == ChannelDirty.mapping_id)
            .join(ChannelConnection, ChannelConnection.id == ChannelMapping.connection_id)
            .where(*_carried(scope), ChannelConnection.status.not_in(_STOPPED))
            .limit(1)
        )
        if halted:
            stmt = stmt.where(ChannelMapping.connection_id.not_in(list(halted)))
        found = await s.execute(stmt)
        return found.first() is not None


def _carried(scope: FlushScope) -> list[Any]:
    """The mappings a scope carries: one connection's, or the agency's on the platform."""
    if scope.connection_id is not None:
        return [ChannelMapping.connection_id == scope.connection_id]
    return [
        ChannelDirty.agency_id == scope.agency_id,
        ChannelMapping.agency_id == scope.agency_id,
        ChannelMapping.platform == scope.platform,
    ]


# What a flush reports when its rounds ended differently: the one that needs attention.
_RANK = ("idle", "unchanged", "pushed", "dead_letter", "stopped", "circuit_open")


def _worse(a: str, b: str) -> str:
    return a if _RANK.index(a) >= _RANK.index(b) else b


@dataclass
class _Listing:
    connection: ChannelConnection
    mapping: ChannelMapping
    dirty: dirty.Dirty
    currency: str
    entry: synclog.Entry
    batches: list[Batch] = field(default_factory=list)
    outcome: str = "unchanged"  # unchanged | pushed | dead_letter | circuit_open | skipped
    acked: dict[date, NightValues] = field(default_factory=dict)


async def _round(
    scope: FlushScope,
    settings: Settings,
    only: set[uuid.UUID] | None,
    halted: dict[uuid.UUID, str],
) -> FlushReport:
    t0 = time.monotonic()
    async with db.get_sessionmaker()() as s, s.begin():
        await db.system_access(s)
        single = None
        if scope.connection_id is not None:
            single = await s.get(ChannelConnection, scope.connection_id)
            if single is None:
                return FlushReport("idle", platform=scope.platform)
        await db.set_tenant(s, scope.agency_id)  # properties are seen only in their agency
        stmt = (
            select(ChannelDirty, ChannelMapping, Property.timezone, Property.currency)
            .join(ChannelMapping, ChannelMapping.id == ChannelDirty.mapping_id)
            .join(Property, Property.id == ChannelMapping.property_id)
            .where(*_carried(scope))
            .order_by(ChannelDirty.since)
            .limit(ROUND_LISTINGS)
        )
        if single is None:
            # The account's connections that may push (a stopped one keeps its ranges).
            stmt = stmt.join(
                ChannelConnection, ChannelConnection.id == ChannelMapping.connection_id
            ).where(ChannelConnection.status.not_in(_STOPPED))
        if halted:
            stmt = stmt.where(ChannelMapping.connection_id.not_in(list(halted)))
        if only is not None:
            stmt = stmt.where(ChannelDirty.mapping_id.in_(only))
        rows = (await s.execute(stmt)).all()
        if not rows:
            return FlushReport("idle", platform=scope.platform)
        gone = [(d.mapping_id, d.seq) for d, m, _, _ in rows if not m.active]
        if gone:
            await dirty.clear_many(s, gone)
        if single is not None and single.status in _STOPPED:
            return FlushReport("stopped", platform=scope.platform, halted={single.id: "stopped"})
        if single is not None:
            carried = {single.id: single}
        else:
            ids = {m.connection_id for _, m, _, _ in rows if m.active}
            found = await s.execute(select(ChannelConnection).where(ChannelConnection.id.in_(ids)))
            carried = {c.id: c for c in found.scalars()}
        adapter = adapter_for(scope.platform, settings)
        days = min(settings.channel_sync_days, adapter.window_days)
        round_id = uuid.uuid4().hex
        listings: list[_Listing] = []
        for d, m, timezone, currency in rows:
            connection = carried.get(m.connection_id)
            if not m.active or connection is None:
                continue
            today = ari_store.local_today(timezone)
            start = max(d.start, today)
            end = max(start, min(d.end, today + timedelta(days=days)))
            entry = synclog.Entry("push", connection.id, connection.agency_id, m.id, start, end)
            # Every listing pushed by one round names it (one task carried them all).
            entry.details["round"] = round_id
            listings.append(
                _Listing(
                    connection,
                    m,
                    dirty.Dirty(d.mapping_id, d.start, d.end, d.since, d.seq),
                    currency,
                    entry,
                )
            )
        # The state as it is NOW (read after the dirty ranges: never older than the changes).
        windows = [
            (x.mapping.id, x.mapping.rate_plan_id, x.entry.start, x.entry.end)
            for x in listings
            if x.entry.start is not None and x.entry.end is not None and x.entry.start < x.entry.end
        ]
        stored = await ari_store.stored_rows_many(s, windows)
        have = await acknowledged_many(s, [(k, a, b) for k, _, a, b in windows])
        s.expunge_all()
    for x in listings:
        fidelity = fidelity_of(x.mapping.platform)
        want = {
            r.day: platform_values(r, x.mapping, fidelity) for r in stored.get(x.mapping.id, ())
        }
        x.batches = adapter.batches(changed_runs(want, have.get(x.mapping.id, {})))
    report = FlushReport(
        "unchanged",
        platform=scope.platform,
        listings=len(listings),
        connections=len({x.connection.id for x in listings}),
    )
    t1 = time.monotonic()
    if any(x.batches for x in listings):
        await _push(settings, adapter, listings, report, shared=scope.connection_id is None)
    t2 = time.monotonic()
    await _finish(settings, scope, listings, report)
    log.info(
        "channel.flush_round",
        account=scope.key,
        connections=report.connections,
        listings=len(listings),
        calls=report.calls,
        outcome=report.outcome,
        read_ms=round(1000 * (t1 - t0)),
        push_ms=round(1000 * (t2 - t1)),
        record_ms=round(1000 * (time.monotonic() - t2)),
    )
    return report


def _halt(
    report: FlushReport, connection_id: uuid.UUID, outcome: str, retry_in: float | None
) -> None:
    """A failure that concerns a whole connection (open circuit, refused credentials): its
    listings not started yet are skipped, and it sits out the flush's next rounds."""
    report.halted.setdefault(connection_id, outcome)
    report.outcome = _worse(report.outcome, outcome)
    if retry_in is not None:
        report.retry_in = min(report.retry_in or retry_in, retry_in)


async def _push(
    settings: Settings,
    adapter: Adapter,
    listings: list[_Listing],
    report: FlushReport,
    *,
    shared: bool = False,
) -> None:
    """Push the listings' batches, several listings at a time (each listing's batches in
    order), each with its own connection's credentials, breaker and rate limit; after a
    failure that concerns a whole connection (open circuit, refused credentials) none of its
    further listings is started, while the other connections' go on. ``shared``: the round
    carries many connections of one account, and a connection whose circuit was open before
    it made a call is passed over quietly (no sync log entry, no failure counted: the flushes
    of its busy neighbours would add one every debounce window); its retry is scheduled."""
    accounts: dict[uuid.UUID, Account] = {}
    for x in listings:
        c = x.connection
        if not x.batches or c.id in accounts or c.id in report.halted:
            continue
        try:
            accounts[c.id] = await Account.open(c, settings)
        except CredentialsRefused as exc:
            _skip(listings, c.id, str(exc))
            _halt(report, c.id, "stopped", None)
        except PlatformError as exc:  # refreshing the token failed
            _skip(listings, c.id, str(exc))
            _halt(report, c.id, "circuit_open", settings.channel_retry_max_seconds)
    gate = asyncio.Semaphore(PUSH_CONCURRENCY)
    stop: dict[uuid.UUID, str] = {}  # per connection: the failure that stops its listings

    async def one(x: _Listing, account: Account) -> None:
        async with gate:
            c = x.connection.id
            if c in stop:
                x.outcome, x.entry.error = "skipped", stop[c]
                return
            mine = account.fork()
            # Each listing's push is a task of its own (gather), so the count is its own.
            with counting_requests() as requests:
                try:
                    for batch in x.batches:
                        await _push_batch(mine, settings, adapter, x, batch)
                    x.outcome = "pushed"
                except Exhausted as exc:
                    x.outcome, x.entry.error = "dead_letter", str(exc.error)
                except (CircuitOpen, CredentialsRefused, PlatformError) as exc:
                    untried = shared and isinstance(exc, CircuitOpen) and not mine.attempts
                    x.outcome, x.entry.error = "skipped" if untried else "circuit_open", str(exc)
                    stop.setdefault(c, str(exc))
                    if isinstance(exc, CircuitOpen):
                        _halt(report, c, "circuit_open", exc.retry_in)
                    elif isinstance(exc, CredentialsRefused):
                        _halt(report, c, "stopped", None)
                    else:
                        _halt(report, c, "circuit_open", settings.channel_retry_max_seconds)
                finally:
                    x.entry.attempts = mine.attempts
                    # Every HTTP request (a call is one batch: Booking.com sends a month's
                    # availability and its prices as two requests; retries included).
                    x.entry.details["requests"] = requests[0]

    await asyncio.gather(
        *(
            one(x, accounts[x.connection.id])
            for x in listings
            if x.batches and x.connection.id in accounts
        )
    )
    report.calls = sum(x.entry.calls for x in listings)
    report.nights = sum(x.entry.nights for x in listings)


async def _push_batch(
    account: Account, settings: Settings, adapter: Adapter, x: _Listing, batch: Batch
) -> None:
    """One batch; where the platform applied part of it (``PartlyApplied``), what it applied
    is acknowledged and only what failed is sent again, up to the attempts allowed."""
    pending, rounds = batch, 0
    while True:
        try:
            await call(
                account,
                partial(
                    adapter.push_ari,
                    listing_id=x.mapping.remote_listing_id,
                    currency=x.currency,
                    batch=pending,
                ),
            )
        except Exhausted as exc:
            if not isinstance(exc.error, PartlyApplied):
                raise
            part = exc.error
            x.acked.update(_batch_nights(part.applied))
            x.entry.calls += 1
            x.entry.nights += part.applied.nights
            failed = x.entry.details.setdefault("failed_nights", [])
            failed[:] = sorted({*failed, *(n.isoformat() for n in _batch_nights(part.failed))})
            rounds += 1
            if not part.failed_retryable or rounds >= settings.channel_max_attempts:
                raise
            pending = part.failed
            await asyncio.sleep(
                retries.delay(
                    rounds, settings.channel_retry_base_seconds, settings.channel_retry_max_seconds
                )
            )
            continue
        x.acked.update(_batch_nights(pending))
        x.entry.calls += 1
        x.entry.nights += pending.nights
        return


def _skip(listings: list[_Listing], connection_id: uuid.UUID, error: str | None) -> None:
    for x in listings:
        if x.batches and x.connection.id == connection_id:
            x.outcome, x.entry.error = "skipped", error


async def _finish(
    settings: Settings,
    scope: FlushScope,
    listings: list[_Listing],
    report: FlushReport,
) -> None:
    """One transaction for the round: the acknowledged nights (the next diff's base), a sync log
    entry per listing, health per connection, dead letters, and the dirty ranges dealt with
    (pushed, unchanged or handed to a dead letter) removed unless a change arrived meanwhile."""
    now = datetime.now(UTC)
    done = [x for x in listings if x.outcome in ("pushed", "unchanged", "dead_letter")]
    ok = [x for x in listings if x.outcome in ("pushed", "unchanged")]
    # The round's outcome: the worst of its listings', a halted connection's own counting
    # for its listings (credentials refused: "stopped", not the call's open circuit).
    outcomes = [report.halted.get(x.connection.id, x.outcome) for x in listings]
    for outcome in outcomes:
        if outcome != "skipped":
            report.outcome = _worse(report.outcome, outcome)
    async with db.transaction(scope.agency_id) as s:
        acked = [
            acknowledged_row(x.mapping, n, v, now) for x in listings for n, v in x.acked.items()
        ]
        if acked:
            await s.execute(_UPSERT_NIGHTS, acked)
        for x in listings:
            if x.outcome != "skipped":
                x.entry.outcome = x.outcome
                s.add(x.entry.row())
        if ok:
            await s.execute(
                update(ChannelMapping)
                .where(ChannelMapping.id.in_([x.mapping.id for x in ok]))
                .values(last_push_at=now, failures_in_row=0, last_error=None)
            )
            # One row per connection, shared by its listings: written only when its health
            # changes or every few seconds.
            healthy = {x.connection.id for x in ok} - set(report.halted)
            await s.execute(
                update(ChannelConnection)
                .where(
                    ChannelConnection.id.in_(healthy),
                    ChannelConnection.status != ConnectionStatus.REVOKED,
                    ChannelConnection.status != ConnectionStatus.PAUSED,
                    or_(
                        ChannelConnection.status != ConnectionStatus.ACTIVE,
                        ChannelConnection.failures_in_row > 0,
                        ChannelConnection.last_push_at.is_(None),
                        ChannelConnection.last_push_at < now - CONNECTION_TOUCH,
                    ),
                )
                .values(
                    last_push_at=now,
                    failures_in_row=0,
                    failing_since=None,
                    last_error=None,
                    status=ConnectionStatus.ACTIVE,
                )
            )
        for x in listings:
            if x.outcome == "dead_letter":
                await PUSH_FAILURES.inc(x.connection.platform)
                s.add(
                    ChannelDeadLetter(
                        agency_id=x.connection.agency_id,
                        connection_id=x.connection.id,
                        mapping_id=x.mapping.id,
                        start=x.entry.start or x.dirty.start,
                        end=x.entry.end or x.dirty.end,
                        attempts=x.entry.attempts,
                        error=(x.entry.error or "failed")[:1000],
                    )
                )
        circuit: set[uuid.UUID] = set()  # one failure per round for a connection
        for x in listings:
            if x.outcome in ("dead_letter", "circuit_open") and x.connection.id not in circuit:
                await _failed(s, settings, x.connection, x.mapping, x.entry.error or "failed", now)
                if x.outcome == "circuit_open":
                    circuit.add(x.connection.id)
        await dirty.clear_many(s, [(x.mapping.id, x.dirty.seq) for x in done])
    await PUSH_LATENCY.observe_many(
        [
            (x.connection.platform, (now - x.dirty.since).total_seconds())
            for x in listings
            if x.outcome == "pushed"
        ]
    )


async def _failed(
    s: AsyncSession,
    settings: Settings,
    connection: ChannelConnection,
    mapping: ChannelMapping,
    error: str,
    now: datetime,
) -> None:
    await s.execute(
        update(ChannelMapping)
        .where(ChannelMapping.id == mapping.id)
        .values(failures_in_row=ChannelMapping.failures_in_row + 1, last_error=error[:500])
    )
    row = await s.get(ChannelConnection, connection.id, with_for_update=True)
    if row is None or row.status in _STOPPED:
        return
    row.failures_in_row += 1
    row.last_error = error[:500]
    row.status = ConnectionStatus.ERROR
    row.failing_since = row.failing_since or now
    await raise_if_failing_long(s, settings, row, now)


async def raise_if_failing_long(
    s: AsyncSession, settings: Settings, row: ChannelConnection, now: datetime
) -> None:
    if row.failing_since is None:
        return
    if (now - row.failing_since).total_seconds() >= settings.channel_failing_alert_seconds:
        await alerting.raise_once(
            s,
            agency_id=row.agency_id,
            kind=alerting.FAILING,
            subject=str(row.id),
            message=f"{row.platform} connection '{row.name}' has been failing since "
            f"{row.failing_since:%Y-%m-%d %H:%M} UTC: {row.last_error}",
        )
