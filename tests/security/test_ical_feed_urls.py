"""Finding 12: a feed URL whose host is private, loopback, link-local or otherwise non-public is
refused when the feed is created (422 on `url`), not only when it is fetched."""

from __future__ import annotations

import httpx
import pytest

from pms.settings import reset_settings_cache
from tests.integration.ical.helpers import Host, host


async def _add(client: httpx.AsyncClient, h: Host, url: str) -> httpx.Response:
    return await client.post(
        f"/api/v1/properties/{h.property_id}/ical-feeds",
        json={"url": url, "name": "Import", "source": "other"},
        headers=h.headers,
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/ical/x.ics",
        "http://localhost/cal.ics",
        "https://[::1]/cal.ics",
        "http://10.0.0.5/cal.ics",
        "http://192.168.1.20/cal.ics",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/cal.ics",
        "http://0.0.0.0/cal.ics",
    ],
)
async def test_a_private_or_loopback_feed_is_refused_at_creation(
    client: httpx.AsyncClient, url: str
) -> None:
    a = await host(client)
    r = await _add(client, a, url)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["url"]
    assert url not in r.text  # the URL is a secret: never repeated
    listed = await client.get("/api/v1/ical-feeds", headers=a.headers)
    assert listed.json()["items"] == []


async def test_a_public_address_is_accepted(client: httpx.AsyncClient) -> None:
    a = await host(client)
    r = await _add(client, a, "https://93.184.216.34/calendar.ics?s=secret")
    assert r.status_code == 201, r.text


async def test_allowed_networks_and_allow_private_let_them_in(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = await host(client)
    monkeypatch.setenv("ICAL_ALLOWED_NETWORKS", "10.0.0.0/8")
    reset_settings_cache()
    assert (await _add(client, a, "http://10.0.0.5/cal.ics")).status_code == 201
    assert (await _add(client, a, "http://192.168.1.20/cal.ics")).status_code == 422
    monkeypatch.setenv("ICAL_ALLOW_PRIVATE", "true")
    reset_settings_cache()
    assert (await _add(client, a, "http://127.0.0.1:8000/ical/x.ics")).status_code == 201
