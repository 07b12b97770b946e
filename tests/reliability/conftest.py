"""Fixtures for failure tests: a Redis of the module's own, which a test may pause (SIGSTOP)
without stalling the rest of the suite."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis

from pms.embedded.process import free_port
from pms.embedded.redis import EmbeddedRedis
from tests.services import TEST_DATA, RedisServer


@pytest.fixture(scope="module")
def own_redis() -> Iterator[RedisServer]:
    server = EmbeddedRedis(TEST_DATA / f"redis-own-{os.getpid()}", free_port(), durable=False)
    server.start()
    yield RedisServer(url=server.url, server=server)
    server.stop()


@pytest.fixture
def redis_url(own_redis: RedisServer) -> str:
    """Overrides the suite's: this module's app talks to ``own_redis``."""
    client = redis.Redis.from_url(own_redis.url)
    client.flushall()
    client.close()
    return own_redis.url


@contextmanager
def paused(server: RedisServer) -> Iterator[None]:
    """Redis stalls: its process is stopped (connections stay open, nothing answers)."""
    pid = server.server.pid if server.server else None
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)
