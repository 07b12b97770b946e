"""Prometheus metrics of the Channel Manager (exposed at /metrics by the process doing the work)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

PUSH_LATENCY = Histogram(
    "pms_channel_push_latency_seconds",
    "From the oldest change in a flushed range to the platform acknowledging it",
    ["platform"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
PLATFORM_CALLS = Counter(
    "pms_channel_platform_calls_total", "Platform calls by outcome", ["platform", "outcome"]
)
PUSH_FAILURES = Counter(
    "pms_channel_push_failures_total", "Flushes that ended in a dead letter", ["platform"]
)
QUEUE_DEPTH = Gauge("pms_channel_dirty_mappings", "Mappings with changes not yet on the platform")
INBOUND_APPLY_LATENCY = Histogram(
    "pms_channel_inbound_apply_latency_seconds",
    "From webhook receipt to the committed Core change",
    ["platform"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)

LAG_SECONDS = Gauge(
    "pms_channel_lag_seconds", "Age of the oldest change not yet on its platform (0: none)"
)
DEAD_LETTERS = Gauge("pms_channel_dead_letters_open", "Dead letters nobody has retried yet")
INBOX_OPEN = Gauge(
    "pms_channel_inbox_open", "Inbound messages not applied yet (pending, failed, unmapped)"
)


_GAUGES_SQL = text(
    "SELECT (SELECT count(*) FROM channel_dirty),"
    " (SELECT coalesce(extract(epoch FROM now() - min(since)), 0) FROM channel_dirty),"
    " (SELECT count(*) FROM channel_dead_letters WHERE retried_at IS NULL),"
    " (SELECT count(*) FROM channel_inbox WHERE status IN ('pending', 'failed', 'unmapped'))"
)


async def refresh_gauges() -> None:
    """Queue depth, lag, dead letters and open inbound messages of every agency, read from
    PostgreSQL when /metrics is scraped (one statement), so any API replica reports them.
    With the database away, /metrics still answers with what it has."""
    from pms import db

    try:
        async with db.transaction(None) as session:
            await db.system_access(session)
            row = (await session.execute(_GAUGES_SQL)).one()
    except (SQLAlchemyError, OSError):
        return
    QUEUE_DEPTH.set(row[0])
    LAG_SECONDS.set(float(row[1]))
    DEAD_LETTERS.set(row[2])
    INBOX_OPEN.set(row[3])
