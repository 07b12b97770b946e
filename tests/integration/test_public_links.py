"""Links we hand out (self-service link, its e-mail, iCal export URL) point at the API's real
address: PUBLIC_BASE_URL, or API_HOST/API_PORT when it is unset."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from pms.settings import Settings, get_settings, reset_settings_cache
from tests.integration.direct.engine import GUEST, engine_agency, stay
from tests.services import plain


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"API_PORT": "8123"}, "http://127.0.0.1:8123"),
        ({"API_HOST": "0.0.0.0", "API_PORT": "9000"}, "http://127.0.0.1:9000"),
        ({"API_HOST": "::1", "API_PORT": "9001"}, "http://[::1]:9001"),
        ({"API_HOST": "pms.local"}, "http://pms.local:8000"),
        ({"API_PORT": "8123", "PUBLIC_BASE_URL": "https://book.example.com/"}, None),
    ],
)
def test_public_base_url_follows_the_api_address_unless_set(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str | None
) -> None:
    for name in ("API_HOST", "API_PORT", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings().public_base_url == (expected or "https://book.example.com")


async def test_links_use_the_api_port(
    settings: Settings, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("API_PORT", "8123")
    reset_settings_cache()
    assert get_settings().public_base_url == "http://127.0.0.1:8123"
    e = await engine_agency(client)

    r = await client.post(e.url("/holds"), json=stay(e, 20, 23))
    assert r.status_code == 201, r.text
    r = await client.post(
        e.url("/bookings"),
        json={"hold_token": r.json()["hold_token"], "guest": GUEST, "accepted_terms": True},
    )
    assert r.status_code == 201, r.text
    link = r.json()["manage_url"]
    assert link.startswith("http://127.0.0.1:8123/api/v1/public/bookings/")
    token = link.rsplit("/", 1)[1]
    # E-mails link to the booking site's self-service page (BOOKING_SITE_URL), same token.
    monkeypatch.setenv("BOOKING_SITE_URL", "https://site.example/")
    reset_settings_cache()
    page = f"https://site.example/{e.slug}/manage/{token}"
    view = await client.get(f"/api/v1/public/bookings/{token}")
    assert view.json()["manage_page_url"] == page

    conn = await asyncpg.connect(plain(settings.require_database_url()))
    try:
        texts = await conn.fetch(
            "SELECT text FROM email_outbox WHERE to_address = $1", GUEST["email"]
        )
    finally:
        await conn.close()
    assert texts
    assert all(f"http://127.0.0.1:3000/{e.slug}/manage/ey" in row["text"] for row in texts)

    r = await client.post(
        f"/api/v1/properties/{e.property_id}/ical-exports", json={}, headers=e.agency.auth()
    )
    assert r.status_code == 201, r.text
    assert r.json()["url"].startswith("http://127.0.0.1:8123/ical/")
