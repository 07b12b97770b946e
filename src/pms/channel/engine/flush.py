"""One flush of one mapping: read the CURRENT ARI of its dirty range, turn it into platform
values, diff against what the platform acknowledged, push the runs in batches, record each
acknowledged batch, then drop the dirty range if nothing was added meanwhile.

Flushes of one mapping never overlap (a PostgreSQL advisory lock), and each reads the state at
send time, so a retry or a late task can never overwrite a newer state with an older one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pms import db
from pms.channel import alerting, synclog
from pms.channel.adapters import adapter_for
from pms.channel.adapters.base import Batch, CredentialsRefused, NightValues, PlatformError
from pms.channel.engine import dirty
from pms.channel.engine.breaker import CircuitOpen
from pms.channel.engine.calls import Account, Exhausted, call
from pms.channel.engine.diff import changed_runs, nights_of
from pms.channel.engine.values import platform_values
from pms.channel.metrics import PUSH_FAILURES, PUSH_LATENCY
from pms.core import ari_store
from pms.logs import get_logger
from pms.models.channel import (
    ChannelConnection,
    ChannelDeadLetter,
    ChannelMapping,
    ChannelNight,
    ConnectionStatus,
)
from pms.models.property import Property
from pms.settings import Settings

log = get_logger(__name__)
_STOPPED = (ConnectionStatus.PAUSED, ConnectionStatus.REVOKED)
CONNECTION_TOUCH = timedelta(seconds=5)
# A flush keeps going while changes keep arriving, but hands over after this many rounds.
MAX_ROUNDS = 20


@dataclass
class FlushReport:
    outcome: str = "idle"  # idle | busy | pushed | unchanged | stopped | dead_letter | circuit_open
    calls: int = 0
    nights: int = 0
    retry_in: float | None = None
    platform: str | None = None


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


async def wanted(
    session: AsyncSession, mapping: ChannelMapping, start: date, end: date
) -> dict[date, NightValues]:
    rows = await ari_store.stored_rows(session, mapping.rate_plan_id, start, end)
    return {r.day: platform_values(r, mapping) for r in rows}


def _batch_nights(batch: Batch) -> dict[date, NightValues]:
    return {n: run.values for run in batch.runs for n in nights_of(run)}


async def flush(mapping_id: uuid.UUID, settings: Settings) -> FlushReport:
    """Push what is dirty for this mapping; ``busy`` if another flush holds it (that one
    loops until nothing is left, so this change is not lost)."""
    async with db.get_sessionmaker()() as holder, holder.begin():
        got = (
            await holder.execute(
                text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))"),
                {"k": f"channel-flush:{mapping_id}"},
            )
        ).scalar_one()
        if not got:
            return FlushReport("busy")
        report = FlushReport()
        for _ in range(MAX_ROUNDS):
            step, done = await _round(mapping_id, settings)
            report.calls += step.calls
            report.nights += step.nights
            if step.outcome != "idle" or report.outcome == "idle":
                report.outcome = step.outcome if step.outcome != "idle" else report.outcome
            report.retry_in = step.retry_in
            report.platform = step.platform or report.platform
            if done:
                break
        return report


async def _round(mapping_id: uuid.UUID, settings: Settings) -> tuple[FlushReport, bool]:
    async with db.get_sessionmaker()() as s, s.begin():
        await db.system_access(s)
        d = await dirty.read(s, mapping_id)
        if d is None:
            return FlushReport("idle"), True
        mapping = await s.get(ChannelMapping, mapping_id)
        if mapping is None or not mapping.active:
            await dirty.clear(s, mapping_id, d.seq)
            return FlushReport("idle"), True
        await db.set_tenant(s, mapping.agency_id)  # properties are seen only in their agency
        connection = await s.get(ChannelConnection, mapping.connection_id)
        prop = await s.get(Property, mapping.property_id)
        assert connection is not None
        assert prop is not None
        if connection.status in _STOPPED:
            return FlushReport("stopped"), True
        adapter = adapter_for(mapping.platform, settings)
        today = ari_store.local_today(prop.timezone)
        start = max(d.start, today)
        days = min(settings.channel_sync_days, adapter.window_days)
        end = min(d.end, today + timedelta(days=days))
        # The state as it is NOW (read after the dirty range: never older than the change).
        want = await wanted(s, mapping, start, end) if start < end else {}
        have = await acknowledged(s, mapping.id, start, end) if start < end else {}
        s.expunge_all()
    entry = synclog.Entry(
        "push", connection.id, connection.agency_id, mapping.id, start, max(start, end)
    )
    report = FlushReport("unchanged", platform=mapping.platform)
    if start < end:
        batches = adapter.batches(changed_runs(want, have))
        try:
            account = await Account.open(connection, settings)
            for batch in batches:
                await call(
                    account,
                    partial(
                        adapter.push_ari,
                        listing_id=mapping.remote_listing_id,
                        currency=prop.currency,
                        batch=batch,
                    ),
                )
                async with db.transaction(mapping.agency_id) as s:
                    await acknowledge(s, mapping, _batch_nights(batch))
                entry.calls += 1
                entry.nights += batch.nights
            report.outcome = "pushed" if batches else "unchanged"
        except CircuitOpen as exc:
            report.outcome, report.retry_in, entry.error = "circuit_open", exc.retry_in, str(exc)
        except CredentialsRefused as exc:
            report.outcome, entry.error = "stopped", str(exc)
        except Exhausted as exc:
            report.outcome, entry.error = "dead_letter", str(exc.error)
        except PlatformError as exc:  # refreshing the token failed on the way
            report.outcome, entry.error = "circuit_open", str(exc)
            report.retry_in = settings.channel_retry_max_seconds
        finally:
            entry.attempts = account_attempts(locals().get("account"))
    entry.outcome = report.outcome
    report.calls, report.nights = entry.calls, entry.nights
    done = await _finish(settings, connection, mapping, d, entry, report)
    return report, done


def account_attempts(account: object) -> int:
    return account.attempts if isinstance(account, Account) else 0


async def _finish(
    settings: Settings,
    connection: ChannelConnection,
    mapping: ChannelMapping,
    d: dirty.Dirty,
    entry: synclog.Entry,
    report: FlushReport,
) -> bool:
    """Log the round, update health, and drop the dirty range when it is dealt with (pushed,
    or handed to a dead letter). True when this flush is done."""
    now = datetime.now(UTC)
    async with db.transaction(mapping.agency_id) as s:
        s.add(entry.row())
        if report.outcome in ("pushed", "unchanged"):
            if report.outcome == "pushed":
                PUSH_LATENCY.labels(mapping.platform).observe((now - d.since).total_seconds())
            await s.execute(
                update(ChannelMapping)
                .where(ChannelMapping.id == mapping.id)
                .values(last_push_at=now, failures_in_row=0, last_error=None)
            )
            # One row shared by every listing of the account: written only when its health
            # changes or every few seconds, so flushes of many listings do not queue on it.
            await s.execute(
                update(ChannelConnection)
                .where(
                    ChannelConnection.id == connection.id,
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
            return await dirty.clear(s, mapping.id, d.seq)
        if report.outcome == "dead_letter":
            PUSH_FAILURES.labels(mapping.platform).inc()
            s.add(
                ChannelDeadLetter(
                    agency_id=mapping.agency_id,
                    connection_id=connection.id,
                    mapping_id=mapping.id,
                    start=entry.start or d.start,
                    end=entry.end or d.end,
                    attempts=entry.attempts,
                    error=(entry.error or "failed")[:1000],
                )
            )
            await _failed(s, settings, connection, mapping, entry.error or "failed", now)
            await dirty.clear(s, mapping.id, d.seq)
            return True
        if report.outcome == "circuit_open":
            await _failed(s, settings, connection, mapping, entry.error or "circuit open", now)
        return True


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
