"""What ``pms dev``'s supervisor tells ``/health/ready`` about its processes, through Redis.

One hash, one field per process, a JSON value: ``state`` (``running`` or ``restarting``),
``restarts``, ``last_exit_code``, ``last_exit_at``. Only ``pms dev`` writes it; under a real
supervisor (systemd) the key does not exist and readiness shows no ``processes``."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import redis

KEY = "pms:dev:processes"


class StatusBoard:
    """The supervisor's side: best effort, never in the way of restarting a process."""

    def __init__(self, redis_url: str) -> None:
        self._redis = redis.Redis.from_url(
            redis_url, socket_timeout=1.0, socket_connect_timeout=1.0
        )

    def clear(self) -> None:
        self._call(lambda r: r.delete(KEY))

    def publish(self, name: str, status: dict[str, Any]) -> None:
        self._call(lambda r: r.hset(KEY, name, json.dumps(status)))

    def close(self) -> None:
        self._redis.close()

    def _call(self, command: Any) -> None:
        # Redis down: readiness says so itself, and restarting the processes matters more.
        with contextlib.suppress(redis.RedisError):
            command(self._redis)


def parse(raw: dict[Any, Any]) -> dict[str, dict[str, Any]]:
    """The hash as read (bytes or, with ``decode_responses``, str) → process → status."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in raw.items():
        try:
            key = name.decode() if isinstance(name, bytes) else str(name)
            out[key] = json.loads(value)
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
    return dict(sorted(out.items()))
