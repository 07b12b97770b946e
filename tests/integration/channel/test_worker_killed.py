"""A worker killed with SIGKILL in the middle of a push loses nothing: the listing's dirty range
is still in PostgreSQL, the scheduler's sweep queues its flush again, and another worker brings
the platform in line with Core."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import httpx

from pms.embedded.process import spawn, stop
from tests.integration.channel.helpers import (
    connect,
    core_ari,
    mismatches,
    priced_agency,
    sim_days,
    window,
)
from tests.sandbox.conftest import Served
from tests.services import REPO, Worker, eventually, run_worker


async def test_a_push_cut_by_sigkill_is_finished_by_another_worker(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox_server: Served,
    relay: Worker,
    tmp_path: Path,
) -> None:
    env = {k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL", "ENVIRONMENT", "DATA_DIR")}
    sandbox = httpx.AsyncClient(base_url=sandbox_server.url, timeout=10)
    (await sandbox.post("/control/reset")).raise_for_status()
    a = await priced_agency(api)
    # Starting and stopping processes waits: done in threads, the event loop stays free.
    first_cm = run_worker(env, tmp_path, os.environ["REDIS_URL"])
    first = await asyncio.to_thread(first_cm.__enter__)
    try:
        c = await connect(api, a, ())
        # Every Airbnb call now takes 1.5 s: the push is surely in flight when the worker dies.
        slow = {"seed": 3, "latency_rate": 1.0, "latency_ms": 1500}
        (await sandbox.put("/control/airbnb/faults", json=slow)).raise_for_status()
        r = await api.post(
            f"/api/v1/channel-connections/{c.connection_id}/mappings",
            json={"remote_listing_id": "50001", "property_id": a.property_id},
            headers=a.auth(),
        )
        assert r.status_code == 201, r.text

        async def pushing() -> bool:
            log: list[dict[str, Any]] = (await sandbox.get("/control/airbnb/faults/log")).json()
            return any("calendar_operations" in str(e.get("path")) for e in log)

        await eventually(pushing, 60, "a push in flight")
        first.proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.proc.wait, 10)
    finally:
        await asyncio.to_thread(first_cm.__exit__, None, None, None)
    (await sandbox.delete("/control/airbnb/faults")).raise_for_status()
    beat = spawn(
        [sys.executable, "-m", "pms", "beat"],
        log_path=tmp_path / "beat.log",
        env={**os.environ, **env},
        cwd=REPO,
    )
    second_cm = run_worker(env, tmp_path, os.environ["REDIS_URL"])
    await asyncio.to_thread(second_cm.__enter__)
    try:
        start, end = window()

        async def in_step() -> bool:
            core = await core_ari(api, a, start, end)
            return not mismatches(core, await sim_days(sandbox, "50001", start, end))

        await eventually(in_step, 120, "the platform in line after the kill")
    finally:
        await asyncio.to_thread(second_cm.__exit__, None, None, None)
        await asyncio.to_thread(stop, beat, signal.SIGTERM, 20)
