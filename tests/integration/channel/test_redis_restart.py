"""Redis restarted mid-run loses nothing that matters: changes and guest bookings go on while
Redis is stopped (every queued task, debounce key, claim and rate-limit bucket is gone with
it: the test Redis keeps nothing on disk) and started again. The durable state is in
PostgreSQL: the outbox (the relay publishes once Redis is back), the dirty ranges and the inbox
(the scheduler's sweep queues their flushes and applications again). Afterwards reconciliation
reports 0 mismatches and every guest booking exists in Core exactly once, in its latest
state."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest
import redis

from pms.embedded.process import spawn, stop
from tests.integration.channel.helpers import (
    airbnb_sandbox,
    connect,
    every_booking_once,
    fully_synced,
    priced_agency,
    reconciled_in_line,
    traffic,
)
from tests.sandbox.conftest import Served
from tests.services import REPO, RedisServer, Worker, eventually


def _redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


async def test_redis_restarted_mid_run_then_reconciliation_finds_nothing_to_fix(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox_server: Served,
    redis_server: RedisServer,
    relay: Worker,
    worker: Worker,
    tmp_path: Path,
) -> None:
    server = redis_server.server
    if server is None:
        pytest.skip("TEST_REDIS_URL names a Redis this test cannot restart")
    sandbox = await airbnb_sandbox(sandbox_server.url, api_url)
    a = await priced_agency(api)
    h = a.auth()
    c = await connect(api, a, ("50001", "50002"))
    await fully_synced(api, h, c.connection_id)
    env = {k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL", "ENVIRONMENT", "DATA_DIR")}
    beat = spawn(
        [sys.executable, "-m", "pms", "beat"],
        log_path=tmp_path / "beat.log",
        env={**os.environ, **env},
        cwd=REPO,
    )
    try:
        before = await traffic(api, sandbox, a, 6, seed=11)
        # Stopping and starting a process waits: done in threads, the event loop stays free.
        await asyncio.to_thread(server.stop)
        assert not await asyncio.to_thread(_redis_answers, redis_server.url)
        during = await traffic(api, sandbox, a, 6, seed=12)
        await asyncio.to_thread(server.start)
        assert await asyncio.to_thread(_redis_answers, redis_server.url)
        after = await traffic(api, sandbox, a, 6, seed=13)
        assert min(before[0], during[0], after[0]) > 3, (before, during, after)
        assert before[1]
        assert during[1]
        (await sandbox.post("/control/airbnb/webhooks/flush")).raise_for_status()

        # The worker and the relay found Redis again by themselves: work queued now is done.
        async def workers_back() -> bool:
            return any(line.get("event") == "outbox_published" for line in relay.log_lines()[-50:])

        try:
            await eventually(workers_back, 60, "the relay publishing again")
            await reconciled_in_line(api, h, c.connection_id, 180)
            await every_booking_once(api, sandbox, h, 90)
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}\nworker:\n{worker.trouble()}\nrelay:\n{relay.trouble(10)}"
            ) from exc
        assert worker.proc.poll() is None, "the worker died with Redis"
        assert beat.poll() is None, "the scheduler died with Redis"
    finally:
        await asyncio.to_thread(stop, beat, signal.SIGTERM, 20)
