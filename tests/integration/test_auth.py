"""Sign-up, login, refresh rotation with reuse detection, logout, /me, and bad tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt

from pms.core.tokens import AUDIENCE, ISSUER
from pms.settings import Settings
from tests.factories import PASSWORD, signup


async def _login(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()


async def test_signup_makes_the_user_admin_of_a_new_agency(client: httpx.AsyncClient) -> None:
    agency_id, token, user_id = await signup(client, "Alpine Chalets")
    r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    me = r.json()
    assert me["id"] == user_id
    assert me["memberships"] == [
        {
            "agency_id": agency_id,
            "agency_name": "Alpine Chalets",
            "agency_slug": "alpine-chalets",
            "role": "admin",
        }
    ]


async def test_signup_twice_with_the_same_email_ignoring_case_is_409(
    client: httpx.AsyncClient,
) -> None:
    body = {"email": "Same@Example.com", "password": PASSWORD, "agency_name": "A"}
    assert (await client.post("/api/v1/auth/signup", json=body)).status_code == 201
    body["email"] = "same@example.COM"
    r = await client.post("/api/v1/auth/signup", json=body)
    assert r.status_code == 409
    assert r.json()["conflict_type"] == "email_taken"


async def test_login_with_a_wrong_password_is_401(client: httpx.AsyncClient) -> None:
    body = {"email": "x@example.com", "password": PASSWORD, "agency_name": "A"}
    await client.post("/api/v1/auth/signup", json=body)
    r = await client.post(
        "/api/v1/auth/login", json={"email": "x@example.com", "password": "wrong-password"}
    )
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"


async def test_failed_logins_must_wait_after_the_free_ones(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """More in tests/security/test_login_lockout.py (per address, increasing, the owner)."""
    body = {"email": "victim@example.com", "password": "nope-nope-nope"}
    codes = [
        (await client.post("/api/v1/auth/login", json=body)).status_code
        for _ in range(settings.login_free_failures + 1)
    ]
    assert codes[:-1] == [401] * settings.login_free_failures
    assert codes[-1] == 429
    r = await client.post("/api/v1/auth/login", json=body)
    assert int(r.headers["retry-after"]) > 0


async def test_refresh_rotates_and_reuse_revokes_the_session(client: httpx.AsyncClient) -> None:
    await client.post(
        "/api/v1/auth/signup",
        json={"email": "r@example.com", "password": PASSWORD, "agency_name": "R"},
    )
    first = await _login(client, "r@example.com")
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    # The old token again: theft assumed, the whole session ends.
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 401
    assert "reuse" in r.json()["detail"]
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401
    r = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {second['access_token']}"}
    )
    assert r.status_code == 401


async def test_logout_ends_the_session(client: httpx.AsyncClient) -> None:
    _, token, _ = await signup(client)
    h = {"Authorization": f"Bearer {token}"}
    assert (await client.post("/api/v1/auth/logout", headers=h)).status_code == 204
    assert (await client.get("/api/v1/me", headers=h)).status_code == 401


async def test_a_token_that_created_a_booking_creates_nothing_once_logged_out(
    client: httpx.AsyncClient,
) -> None:
    """The token's signature check is kept by the process; its session is read every time."""
    email = f"out-{uuid.uuid4().hex[:8]}@example.com"
    r = await client.post(
        "/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "agency_name": "Out"}
    )
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    prop = await client.post(
        "/api/v1/properties",
        json={"name": "Hut", "timezone": "Europe/Berlin", "currency": "EUR", "max_guests": 2},
        headers=h,
    )
    guest = await client.post("/api/v1/guests", json={"last_name": "Gast"}, headers=h)
    stay = {"property_id": prop.json()["id"], "guest_id": guest.json()["id"]}
    first = {**stay, "check_in": "2031-03-01", "check_out": "2031-03-03"}
    assert (await client.post("/api/v1/bookings", json=first, headers=h)).status_code == 201
    assert (await client.post("/api/v1/auth/logout", headers=h)).status_code == 204
    second = {**stay, "check_in": "2031-04-01", "check_out": "2031-04-03"}
    refused = await client.post("/api/v1/bookings", json=second, headers=h)
    assert refused.status_code == 401, refused.text
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    again = {"Authorization": f"Bearer {login.json()['access_token']}"}
    listed = (await client.get("/api/v1/bookings", headers=again)).json()
    assert [b["check_in"] for b in listed["items"]] == ["2031-03-01"]


def _forge(settings: Settings, **overrides: object) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "00000000-0000-0000-0000-000000000001",
        "sid": "00000000-0000-0000-0000-000000000002",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        **overrides,
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm="HS256")


async def test_expired_tampered_and_wrong_audience_tokens_are_401(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    _, token, user_id = await signup(client)
    good = jwt.decode(token, options={"verify_signature": False})
    expired = _forge(
        settings, sub=user_id, sid=good["sid"], exp=datetime.now(UTC) - timedelta(seconds=1)
    )
    wrong_aud = _forge(settings, sub=user_id, sid=good["sid"], aud="someone-else")
    head, payload, sig = token.split(".")
    tampered = f"{head}.{payload}.{sig[:-4]}AAAA"
    other_key = jwt.encode({**good, "aud": AUDIENCE}, "not-our-secret-" * 3, algorithm="HS256")
    for bad in (expired, wrong_aud, tampered, other_key, "not-a-jwt"):
        r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad
        assert r.headers["www-authenticate"] == "Bearer"
    assert (await client.get("/api/v1/me")).status_code == 401
