"""Prometheus metrics of the Channel Manager (exposed at /metrics by the process doing the work)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
