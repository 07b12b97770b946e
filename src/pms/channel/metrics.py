"""Prometheus metrics of the Channel Manager.

The latency histograms and the counters are observed in the worker processes (several, possibly
on several machines) and exposed by the API's /metrics: each observation adds to counters in Redis
(one pipelined round trip), and /metrics renders them, so every API replica shows the sum over all
workers, and a restarted worker loses nothing. Gauges are read from PostgreSQL when scraped."""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Iterator, Sequence

from prometheus_client import REGISTRY, Gauge
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from pms.logs import get_logger
from pms.redis_client import get_redis

log = get_logger(__name__)
_PREFIX = "pms:metrics:"


class SharedHistogram(Collector):
    """A histogram with one label (the platform) whose counts live in Redis: per label a hash
    of per-bucket counts (not cumulative; the last field is +Inf), the count and the sum."""

    def __init__(self, name: str, documentation: str, buckets: Sequence[float]) -> None:
        self.name = name
        self.documentation = documentation
        self.buckets = tuple(float(b) for b in buckets)
        self._snapshot: dict[str, dict[str, float]] = {}
        REGISTRY.register(self)

    def _key(self, label: str) -> str:
        return f"{_PREFIX}{self.name}:{label}"

    async def observe(self, platform: str, seconds: float) -> None:
        """Add one observation; with Redis away it is dropped (metrics never fail the work)."""
        await self.observe_many([(platform, seconds)])

    async def observe_many(self, observations: Sequence[tuple[str, float]]) -> None:
        """Add (platform, seconds) observations in one round trip (a flush round's listings)."""
        if not observations:
            return
        try:
            pipe = get_redis().pipeline(transaction=False)
            for platform, seconds in observations:
                field = f"b{bisect.bisect_left(self.buckets, seconds)}"
                pipe.hincrby(self._key(platform), field, 1)
                pipe.hincrbyfloat(self._key(platform), "sum", seconds)
            for platform in {p for p, _ in observations}:
                pipe.sadd(f"{_PREFIX}{self.name}", platform)
            await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("metrics.observe_failed", metric=self.name, error=type(exc).__name__)

    async def refresh(self) -> None:
        """Read every label's counts from Redis (called by /metrics before rendering)."""
        redis = get_redis()
        labels = sorted(str(x) for x in await redis.smembers(f"{_PREFIX}{self.name}"))
        pipe = redis.pipeline(transaction=False)
        for label in labels:
            pipe.hgetall(self._key(label))
        found = await pipe.execute()
        self._snapshot = {
            str(label): {str(k): float(v) for k, v in values.items()}
            for label, values in zip(labels, found, strict=True)
        }

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=["platform"])
        for label, values in self._snapshot.items():
            running = 0.0
            cumulative = []
            for i, bound in enumerate((*self.buckets, float("inf"))):
                running += values.get(f"b{i}", 0.0)
                cumulative.append(("+Inf" if bound == float("inf") else f"{bound:g}", running))
            family.add_metric([label], cumulative, values.get("sum", 0.0))
        yield family


PUSH_LATENCY = SharedHistogram(
    "pms_channel_push_latency_seconds",
    "From the oldest change in a flushed range to the platform acknowledging it",
    (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)


class SharedCounter(Collector):
    """A counter whose counts live in Redis (one hash per metric: a field per label set), so
    increments in any worker add up. ``name`` without the ``_total`` suffix Prometheus adds."""

    _SEP = "\x1f"  # between label values in a hash field: never in a platform or outcome

    def __init__(self, name: str, documentation: str, labels: Sequence[str]) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = tuple(labels)
        self._snapshot: dict[tuple[str, ...], float] = {}
        REGISTRY.register(self)

    async def inc(self, *values: str) -> None:
        """Add one; with Redis away it is dropped (metrics never fail the work)."""
        pipe = get_redis().pipeline(transaction=False)
        self.inc_on(pipe, *values)
        try:
            await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("metrics.observe_failed", metric=self.name, error=type(exc).__name__)

    def inc_on(self, pipe: Pipeline, *values: str) -> None:
        """Add one as part of the caller's pipeline (sent with the caller's other commands)."""
        if len(values) != len(self.labels):
            raise ValueError(f"{self.name} takes the labels {self.labels}")
        pipe.hincrby(f"{_PREFIX}{self.name}", self._SEP.join(values), 1)

    async def refresh(self) -> None:
        found = await get_redis().hgetall(f"{_PREFIX}{self.name}")
        self._snapshot = {
            tuple(str(k).split(self._SEP)): float(v)
            for k, v in found.items()
            if len(str(k).split(self._SEP)) == len(self.labels)
        }

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(self.name, self.documentation, labels=list(self.labels))
        for values, count in sorted(self._snapshot.items()):
            family.add_metric(list(values), count)
        yield family


PLATFORM_CALLS = SharedCounter(
    "pms_channel_platform_calls", "Platform calls by outcome", ["platform", "outcome"]
)
PUSH_FAILURES = SharedCounter(
    "pms_channel_push_failures", "Flushes that ended in a dead letter", ["platform"]
)
QUEUE_DEPTH = Gauge("pms_channel_dirty_mappings", "Mappings with changes not yet on the platform")
INBOUND_APPLY_LATENCY = SharedHistogram(
    "pms_channel_inbound_apply_latency_seconds",
    "From webhook receipt to the committed Core change",
    (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
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


async def refresh() -> None:
    """Everything /metrics shows that lives outside this process."""
    await refresh_gauges()
    for shared in (PUSH_LATENCY, INBOUND_APPLY_LATENCY, PLATFORM_CALLS, PUSH_FAILURES):
        # With Redis away, /metrics still answers with the last counts it read.
        with contextlib.suppress(RedisError, OSError):
            await shared.refresh()


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
