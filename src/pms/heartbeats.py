"""Worker liveness in Redis: each worker refreshes a key with a TTL; readiness reads them."""

from __future__ import annotations

HEARTBEAT_PREFIX = "pms:worker:heartbeat:"


def heartbeat_key(hostname: str) -> str:
    return f"{HEARTBEAT_PREFIX}{hostname}"
