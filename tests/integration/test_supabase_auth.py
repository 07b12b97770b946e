"""Supabase mode: tokens issued by Supabase Auth (HS256 secret or a key from a JWKS) are accepted
and linked to users; wrong audience or unknown keys are refused."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from pms.core import tokens
from pms.settings import reset_settings_cache
from tests.jwks import public_jwk, serve_jwks

SECRET = "super-secret-jwt-token-with-at-least-32-characters"


def _claims(sub: uuid.UUID, email: str, aud: str = "authenticated") -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "sub": str(sub),
        "aud": aud,
        "role": "authenticated",
        "email": email,
        "iss": "http://127.0.0.1:54321/auth/v1",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }


@pytest.fixture
def hs256(monkeypatch: pytest.MonkeyPatch, settings: object) -> None:
    monkeypatch.setenv("SUPABASE_JWT_SECRET", SECRET)
    reset_settings_cache()


async def test_hs256_supabase_token_creates_and_links_a_user(
    hs256: None, client: httpx.AsyncClient
) -> None:
    sub = uuid.uuid4()
    token = jwt.encode(_claims(sub, "sb@example.com"), SECRET, algorithm="HS256")
    r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["email"] == "sb@example.com"
    assert first["memberships"] == []
    again = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert again.json()["id"] == first["id"]


async def test_supabase_token_with_wrong_audience_or_secret_is_401(
    hs256: None, client: httpx.AsyncClient
) -> None:
    sub = uuid.uuid4()
    wrong_aud = jwt.encode(_claims(sub, "a@example.com", aud="anon"), SECRET, algorithm="HS256")
    wrong_key = jwt.encode(_claims(sub, "a@example.com"), "x" * 40, algorithm="HS256")
    for bad in (wrong_aud, wrong_key):
        r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with serve_jwks([public_jwk(key, "test-key", "RS256")]) as served:
        yield served.url, key


async def test_asymmetric_supabase_token_verified_with_a_local_jwks(
    jwks_server: tuple[str, Any],
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, key = jwks_server
    monkeypatch.setenv("SUPABASE_JWKS_URL", url)
    reset_settings_cache()
    monkeypatch.setattr(tokens, "jwks_cache", tokens._JwksCache())
    sub = uuid.uuid4()
    good = jwt.encode(
        _claims(sub, "rs@example.com"), key, algorithm="RS256", headers={"kid": "test-key"}
    )
    r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {good}"})
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "rs@example.com"
    unknown = jwt.encode(
        _claims(sub, "rs@example.com"), key, algorithm="RS256", headers={"kid": "other"}
    )
    r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {unknown}"})
    assert r.status_code == 401
