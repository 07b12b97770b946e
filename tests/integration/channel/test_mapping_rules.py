"""Mapping and reconciliation rules over HTTP: a listing priced in another currency than the
property is refused (there is no exchange-rate source to convert with); an on-demand
reconciliation is queued (202) and followed through its sync log entry, also when the
connection is paused."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx

from tests.integration.channel.helpers import connect, priced_agency, reconciled, window
from tests.sandbox.conftest import Served
from tests.services import Worker, eventually


async def test_a_listing_in_another_currency_is_refused(
    api: httpx.AsyncClient, sandbox_server: Served
) -> None:
    sandbox = httpx.AsyncClient(base_url=sandbox_server.url, timeout=10)
    (await sandbox.post("/control/reset")).raise_for_status()
    r = await sandbox.post("/control/airbnb/hosts", json={"listings": 1, "currency": "USD"})
    r.raise_for_status()
    host = r.json()
    a = await priced_agency(api)  # its property is priced in EUR
    h = a.auth()
    r = await api.post(
        "/api/v1/channel-connections",
        json={"platform": "airbnb", "authorization_code": host["authorization_code"]},
        headers=h,
    )
    assert r.status_code == 201, r.text
    connection_id = r.json()["id"]
    r = await api.get(f"/api/v1/channel-connections/{connection_id}/remote-listings", headers=h)
    assert [x["currency"] for x in r.json()] == ["USD"], r.text
    r = await api.post(
        f"/api/v1/channel-connections/{connection_id}/mappings",
        json={"remote_listing_id": host["listings"][0], "property_id": a.property_id},
        headers=h,
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert "USD" in problem["detail"]
    assert "EUR" in problem["detail"]
    assert problem["errors"][0]["field"] == "property_id"
    r = await api.get(f"/api/v1/channel-connections/{connection_id}/mappings", headers=h)
    assert r.json() == [], r.text
    # The same property maps to a listing priced in EUR.
    c = await connect(api, a, ("50001",))
    assert set(c.mapping_ids) == {"50001"}


async def test_reconcile_is_queued_and_followed_in_the_sync_log(
    api: httpx.AsyncClient, sandbox_server: Served, relay: Worker, worker: Worker
) -> None:
    sandbox = httpx.AsyncClient(base_url=sandbox_server.url, timeout=10)
    (await sandbox.post("/control/reset")).raise_for_status()
    a = await priced_agency(api)
    h = a.auth()
    c = await connect(api, a, ("50001",))
    entry = await reconciled(api, h, c.connection_id)
    assert entry["outcome"] == "ok", entry
    assert entry["details"]["listings"][0]["mapping_id"] == c.mapping_ids["50001"]
    assert entry["details"]["mismatches"] == entry["details"]["listings"][0]["mismatches"]
    # Paused: the run does nothing and says so.
    r = await api.patch(
        f"/api/v1/channel-connections/{c.connection_id}", json={"status": "paused"}, headers=h
    )
    assert r.status_code == 200, r.text
    entry = await reconciled(api, h, c.connection_id)
    assert entry["outcome"] == "stopped", entry
    # Unknown connections and entries are 404s.
    r = await api.post(f"/api/v1/channel-connections/{uuid.uuid4()}/reconcile", headers=h)
    assert r.status_code == 404, r.text
    r = await api.get(f"/api/v1/channel-connections/{c.connection_id}/sync-log/999999", headers=h)
    assert r.status_code == 404, r.text


def _count(metrics: str, name: str, labels: str = 'platform="airbnb"') -> float:
    line = f"{name}{{{labels}}} "
    found = [x for x in metrics.splitlines() if x.startswith(line)]
    return float(found[0][len(line) :]) if found else 0.0


async def test_worker_latency_histograms_are_on_the_api_metrics(
    api: httpx.AsyncClient, api_url: str, sandbox_server: Served, relay: Worker, worker: Worker
) -> None:
    """Pushes and inbound messages are handled in the worker processes; the API process
    renders their histograms and counters (kept in Redis), so any replica shows every worker's
    counts."""
    sandbox = httpx.AsyncClient(base_url=sandbox_server.url, timeout=10)
    (await sandbox.post("/control/reset")).raise_for_status()
    hook = {"url": f"{api_url}/api/v1/channels/airbnb/webhooks", "backoff_base_s": 0.2}
    (await sandbox.put("/control/airbnb/webhook", json=hook)).raise_for_status()
    before = (await api.get("/metrics")).text
    a = await priced_agency(api)
    await connect(api, a, ("50001",))
    start, _ = window()
    arrival = start + timedelta(days=20)
    r = await sandbox.post(
        "/control/airbnb/bookings",
        json={
            "listing_id": "50001",
            "arrival": arrival.isoformat(),
            "departure": (arrival + timedelta(days=2)).isoformat(),
        },
    )
    r.raise_for_status()

    async def observed() -> str | None:
        text = (await api.get("/metrics")).text
        pushed = _count(text, "pms_channel_push_latency_seconds_count") > _count(
            before, "pms_channel_push_latency_seconds_count"
        )
        applied = _count(text, "pms_channel_inbound_apply_latency_seconds_count") > _count(
            before, "pms_channel_inbound_apply_latency_seconds_count"
        )
        ok_calls = 'outcome="ok",platform="airbnb"'
        called = _count(text, "pms_channel_platform_calls_total", ok_calls) > _count(
            before, "pms_channel_platform_calls_total", ok_calls
        )
        return text if pushed and applied and called else None

    text = await eventually(
        observed, 60, "the histograms and the calls counter to count the workers' observations"
    )
    assert 'pms_channel_push_latency_seconds_bucket{le="+Inf",platform="airbnb"}' in text
    assert "# TYPE pms_channel_inbound_apply_latency_seconds histogram" in text
