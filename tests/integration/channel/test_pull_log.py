"""A pull's sync-log entry counts every HTTP request the pull made (Booking.com asks its two
queues, then acknowledges; Expedia retrieves with BR, then confirms with BC), checked against
the simulator's own record of the requests it received. And a BC confirmation Expedia answers
with a warning (10081 "Update refused") is not counted as confirmed: it is named in the sync
log, raises an alert, and the next pull confirms the booking (once)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from pms.channel import pull
from pms.channel.alerting import ACK_REFUSED
from pms.redis_client import get_redis
from pms.settings import get_settings
from tests.channels.certification.platforms import PLATFORMS, Driver
from tests.factories import Agency
from tests.integration.channel.helpers import priced_agency, window
from tests.sandbox.conftest import Served

# The platform paths a pull uses (pushes, if any ran, use others).
PULL_PATHS = {
    "booking_com": ("OTA_HotelResNotif", "OTA_HotelResModifyNotif", "exchange"),
    "expedia": ("/eqc/br", "/eqc/bc"),
}


async def _connected(
    platform: str, api: httpx.AsyncClient, api_url: str, sandbox: httpx.AsyncClient
) -> tuple[Driver, Agency]:
    (await sandbox.post("/control/reset")).raise_for_status()
    driver = PLATFORMS[platform](api_url=api_url)
    a = await priced_agency(api)
    driver.connection_id, _ = await driver.connect(api, a)
    return driver, a


async def _pulls(api: httpx.AsyncClient, a: Agency, connection_id: str) -> list[dict[str, Any]]:
    r = await api.get(f"/api/v1/channel-connections/{connection_id}/sync-log", headers=a.auth())
    assert r.status_code == 200, r.text
    return [e for e in r.json() if e["kind"] == "pull"]


@pytest.mark.parametrize("platform", ["booking_com", "expedia"])
async def test_a_pull_counts_every_request_it_made(
    platform: str, api: httpx.AsyncClient, api_url: str, sandbox_server: Served
) -> None:
    sandbox = httpx.AsyncClient(base_url=sandbox_server.url, timeout=10)
    driver, a = await _connected(platform, api, api_url, sandbox)
    start, _ = window()
    code = await driver.book(
        sandbox, start + timedelta(days=30), start + timedelta(days=32), force=True
    )
    # A plan without faults: the simulator records every request it receives.
    (await sandbox.put(f"/control/{driver.sim}/faults", json={"seed": 3})).raise_for_status()

    report = await pull.poll(uuid.UUID(driver.connection_id), get_settings())
    assert (report.received, report.applied, report.acknowledged) == (1, 1, 1), report

    log = (await sandbox.get(f"/control/{driver.sim}/faults/log")).json()
    (await sandbox.delete(f"/control/{driver.sim}/faults")).raise_for_status()
    received = [e for e in log if any(p in e["path"] for p in PULL_PATHS[platform])]
    # Booking.com: GET new, GET modify, the ack (and a token exchange if one was due);
    # Expedia: BR and BC.
    assert len(received) >= (3 if platform == "booking_com" else 2), received
    (entry,) = await _pulls(api, a, driver.connection_id)
    assert entry["calls"] == len(received), (entry, received)
    assert entry["outcome"] == "ok", entry
    assert await driver.ack_counts(sandbox, code) == [1]


async def test_an_expedia_confirmation_refused_with_a_warning(
    api: httpx.AsyncClient, api_url: str, sandbox_server: Served
) -> None:
    sandbox = httpx.AsyncClient(base_url=sandbox_server.url, timeout=10)
    driver, a = await _connected("expedia", api, api_url, sandbox)
    start, _ = window()
    code = await driver.book(
        sandbox, start + timedelta(days=30), start + timedelta(days=32), force=True
    )
    r = await sandbox.put(
        f"/control/expedia/bookings/{code}/refuse-confirmations", json={"times": 1}
    )
    r.raise_for_status()

    report = await pull.poll(uuid.UUID(driver.connection_id), get_settings())
    assert (report.received, report.applied, report.acknowledged) == (1, 1, 0), report
    assert not await driver.acknowledged(sandbox, code)
    (entry,) = await _pulls(api, a, driver.connection_id)
    refused = entry["details"]["refused_acknowledgements"]
    assert [(x["reservation"], x["code"]) for x in refused] == [(code, "10081")], entry
    assert "Update refused" in refused[0]["text"]
    r = await api.get("/api/v1/alerts", params={"kind": ACK_REFUSED}, headers=a.auth())
    alerts = r.json()["items"]
    assert len(alerts) == 1, alerts
    assert code in alerts[0]["message"]
    assert "10081" in alerts[0]["message"]

    # BR hands the unconfirmed booking out again; the next pull confirms it, once.
    await get_redis().delete(f"pms:channel:poll-due:{driver.connection_id}")
    report = await pull.poll(uuid.UUID(driver.connection_id), get_settings())
    assert report.acknowledged == 1, report
    assert await driver.acknowledged(sandbox, code)
    assert await driver.ack_counts(sandbox, code) == [1]
    # Another agency sees none of it.
    other = await priced_agency(api, "Other")
    r = await api.get("/api/v1/alerts", params={"kind": ACK_REFUSED}, headers=other.auth())
    assert r.json()["items"] == []


async def test_a_booking_com_ack_failing_after_another_was_taken_waits_for_the_next_pull(
    api: httpx.AsyncClient, api_url: str, sandbox_server: Served
) -> None:
    """The pull acknowledges the new queue, then the modify queue; the platform refuses the
    second (its rate limit): the first is not sent again, the second goes with the next pull."""
    sandbox = httpx.AsyncClient(base_url=sandbox_server.url, timeout=10)
    driver, a = await _connected("booking_com", api, api_url, sandbox)
    connection = uuid.UUID(driver.connection_id)
    start, _ = window()
    changed = await driver.book(
        sandbox, start + timedelta(days=30), start + timedelta(days=32), force=True
    )
    assert (await pull.poll(connection, get_settings())).acknowledged == 1
    await driver.cancel(sandbox, changed)  # a cancellation goes through the modify queue
    new = await driver.book(
        sandbox, start + timedelta(days=40), start + timedelta(days=42), force=True
    )
    # Room for the two GETs and one acknowledgement in the machine account's window.
    limits = {"requests": 3, "window_s": 60}
    r = await sandbox.put("/control/booking/accounts/sandbox-pms/limits", json=limits)
    r.raise_for_status()
    await get_redis().delete(f"pms:channel:poll-due:{driver.connection_id}")

    report = await pull.poll(connection, get_settings())
    assert (report.received, report.applied, report.acknowledged) == (2, 2, 1), report
    assert await driver.ack_counts(sandbox, new) == [1]
    assert await driver.ack_counts(sandbox, changed) == [1], "the cancellation waits"
    entry = (await _pulls(api, a, driver.connection_id))[0]
    (left,) = entry["details"]["refused_acknowledgements"]
    assert (left["reservation"], left["next_pull"]) == (changed, True), entry
    r = await api.get("/api/v1/alerts", params={"kind": ACK_REFUSED}, headers=a.auth())
    assert r.json()["items"] == [], "a failure the next pull repairs raises no alert"

    (await sandbox.delete("/control/booking/accounts/sandbox-pms/limits")).raise_for_status()
    await get_redis().delete(f"pms:channel:poll-due:{driver.connection_id}")
    report = await pull.poll(connection, get_settings())
    assert (report.received, report.acknowledged) == (1, 1), report
    assert await driver.ack_counts(sandbox, changed) == [1, 1]
    assert await driver.ack_counts(sandbox, new) == [1]
