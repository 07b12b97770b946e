"""Bearer tokens, rule by rule, without the app: the service's own access tokens (HS256, its
issuer and audience, a session id, a lifetime), refresh tokens (``<session id>.<secret>``, only a
hash stored), and Supabase Auth tokens (HS256 with the project's secret, or RS256 / ES256 /
EdDSA with a key from its JWKS). Each refusal says why, as the 401 the API sends."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from pydantic import SecretStr

from pms.core import tokens
from pms.core.errors import Unauthorized
from pms.settings import Settings
from tests.jwks import Jwks, public_jwk, serve_jwks

SECRET_KEY = "k" * 64
SUPABASE_SECRET = "s" * 64
USER = uuid.UUID("11111111-2222-3333-4444-555555555555")
SESSION = uuid.UUID("66666666-7777-8888-9999-000000000000")


def settings(
    *, ttl: int = 900, supabase_secret: str | None = None, jwks_url: str | None = None
) -> Settings:
    return Settings(
        secret_key=SecretStr(SECRET_KEY),
        access_token_ttl_seconds=ttl,
        supabase_jwt_secret=SecretStr(supabase_secret) if supabase_secret else None,
        supabase_jwks_url=jwks_url,
    )


async def refused(s: Settings, token: str) -> str:
    with pytest.raises(Unauthorized) as refusal:
        await tokens.verify_access_token(s, token)
    return refusal.value.detail


def own(**claims: Any) -> str:
    """A token shaped like the service's own, with some claims changed (None drops one)."""
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "iss": "pms-webapp",
        "aud": "pms-api",
        "sub": str(USER),
        "sid": str(SESSION),
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, SECRET_KEY, "HS256")


def supabase(key: Any = SUPABASE_SECRET, alg: str = "HS256", kid: str = "", **claims: Any) -> str:
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "sub": str(USER),
        "aud": "authenticated",
        "role": "authenticated",
        "email": "guest@example.com",
        "iss": "https://project.supabase.co/auth/v1",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    base.update(claims)
    payload = {k: v for k, v in base.items() if v is not None}
    return jwt.encode(payload, key, alg, headers={"kid": kid} if kid else None)


# --- the service's own access tokens ------------------------------------------------------------


async def test_an_access_token_names_its_user_and_session_and_lives_for_the_ttl() -> None:
    s = settings(ttl=600)
    token = tokens.issue_access_token(s, USER, SESSION)
    claims = jwt.decode(token, SECRET_KEY, ["HS256"], audience="pms-api", issuer="pms-webapp")
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert (claims["sub"], claims["sid"]) == (str(USER), str(SESSION))
    assert claims["exp"] - claims["iat"] == 600
    assert abs(claims["iat"] - datetime.now(UTC).timestamp()) <= 5
    verified = await tokens.verify_access_token(s, token)
    assert verified == tokens.AccessClaims(USER, SESSION, expires_at=float(claims["exp"]))
    assert (verified.supabase, verified.email) == (False, None)


def test_two_access_tokens_of_one_session_are_different_tokens() -> None:
    s = settings()
    first, second = (tokens.issue_access_token(s, USER, SESSION) for _ in range(2))
    assert first != second
    ids = {jwt.decode(t, options={"verify_signature": False})["jti"] for t in (first, second)}
    assert len(ids) == 2
    assert all(len(i) == 32 for i in ids)


async def test_an_expired_access_token_is_refused_as_expired() -> None:
    s = settings(ttl=-1)
    assert await refused(s, tokens.issue_access_token(s, USER, SESSION)) == "Token expired."
    past = datetime.now(UTC) - timedelta(seconds=5)
    assert await refused(settings(), own(exp=past)) == "Token expired."


async def test_a_token_checked_before_is_still_refused_once_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second use reads the claims checked by the first, and checks the expiry again."""
    s = settings(ttl=60)
    token = tokens.issue_access_token(s, USER, SESSION)
    first = await tokens.verify_access_token(s, token)
    assert await tokens.verify_access_token(s, token) == first
    later = first.expires_at
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    assert await refused(s, token) == "Token expired."
    monkeypatch.setattr(tokens.time, "time", lambda: later - 1)
    # Not kept once expired: the next use is a full check (here, PyJWT's at the real time).
    assert await tokens.verify_access_token(s, token) == first


async def test_a_token_checked_under_one_key_is_checked_again_under_another() -> None:
    s = settings()
    token = tokens.issue_access_token(s, USER, SESSION)
    await tokens.verify_access_token(s, token)
    rotated = s.model_copy(update={"secret_key": SecretStr("r" * 64)})
    assert await refused(rotated, token) == "Invalid token."
    assert (await tokens.verify_access_token(s, token)).user_id == USER


async def test_the_checked_tokens_a_process_keeps_are_bounded_and_start_over_when_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = settings()
    claims = await tokens.verify_access_token(s, tokens.issue_access_token(s, USER, SESSION))
    kept = tokens._Verified()
    monkeypatch.setattr(kept, "MAX", 2)
    kept.add("key", "a", claims)
    kept.add("key", "b", claims)
    assert kept.get("key", "a") == kept.get("key", "b") == claims
    kept.add("key", "c", claims)  # full: starts over with the newest only
    assert [kept.get("key", t) for t in ("a", "b", "c")] == [None, None, claims]
    kept.drop("c")
    kept.drop("never-kept")  # dropping what is not kept is no error
    assert kept.get("key", "c") is None


async def test_a_refused_token_is_never_kept() -> None:
    s = settings()
    token = tokens.issue_access_token(s, USER, SESSION)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for _ in range(2):
        assert await refused(s, forged) == "Invalid token."


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(jwt.encode({"iss": "pms-webapp"}, "x" * 64, "HS256"), id="other-key"),
        pytest.param(own(aud="authenticated"), id="other-audience"),
        pytest.param(own(aud=None), id="no-audience"),
        pytest.param(own(sid=None), id="no-session"),
        pytest.param(own(sub=None), id="no-subject"),
        pytest.param(own(exp=None), id="no-expiry"),
        pytest.param(own(sub="not-a-uuid"), id="subject-not-a-uuid"),
        pytest.param(own(sid="not-a-uuid"), id="session-not-a-uuid"),
        pytest.param(
            jwt.encode({"iss": "pms-webapp", "aud": "pms-api"}, SECRET_KEY, "HS512"),
            id="other-algorithm",
        ),
    ],
)
async def test_an_access_token_not_exactly_as_issued_is_invalid(token: str) -> None:
    assert await refused(settings(), token) == "Invalid token."


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "Bearer x.y"])
async def test_something_that_is_not_a_jwt_is_a_malformed_bearer_token(token: str) -> None:
    assert await refused(settings(), token) == "Malformed bearer token."


async def test_another_issuers_token_is_refused_when_supabase_is_not_configured() -> None:
    token = supabase()
    assert await refused(settings(), token) == "Token not issued by this service."
    assert await refused(settings(), own(iss="someone-else")) == "Token not issued by this service."


# --- refresh tokens -------------------------------------------------------------------------------


def test_a_refresh_secret_is_long_random_and_url_safe() -> None:
    secrets = {tokens.new_refresh_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert len(secret) >= 43  # 32 random bytes
        assert set(secret) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )


def test_only_the_sha256_of_a_refresh_secret_is_stored_and_compared() -> None:
    stored = tokens.token_hash("the-secret")
    assert stored == hashlib.sha256(b"the-secret").hexdigest()
    assert "the-secret" not in stored
    assert tokens.same_hash(stored, tokens.token_hash("the-secret"))
    assert not tokens.same_hash(stored, tokens.token_hash("the-secreT"))


def test_a_refresh_token_is_the_session_id_a_dot_and_the_secret() -> None:
    assert tokens.split_refresh_token(f"{SESSION}.abc.def") == (SESSION, "abc.def")
    assert tokens.split_refresh_token(f"{SESSION}.") == (SESSION, "")
    for bad in ("", "abc.def", "not-a-uuid.secret", f".{SESSION}"):
        with pytest.raises(Unauthorized) as refusal:
            tokens.split_refresh_token(bad)
        assert refusal.value.detail == "Invalid refresh token."
        assert refusal.value.headers == {"WWW-Authenticate": "Bearer"}


# --- Supabase Auth tokens -------------------------------------------------------------------------


async def test_a_supabase_hs256_token_signed_with_the_project_secret_is_accepted() -> None:
    exp = int((datetime.now(UTC) + timedelta(minutes=3)).timestamp())
    token = supabase(exp=exp)
    claims = await tokens.verify_access_token(settings(supabase_secret=SUPABASE_SECRET), token)
    assert claims == tokens.AccessClaims(
        USER, None, supabase=True, email="guest@example.com", expires_at=float(exp)
    )
    without_email = supabase(email=None)
    claims = await tokens.verify_access_token(
        settings(supabase_secret=SUPABASE_SECRET), without_email
    )
    assert (claims.user_id, claims.email, claims.supabase) == (USER, None, True)


@pytest.mark.parametrize(
    ("token", "why"),
    [
        pytest.param(supabase(key="x" * 64), "Invalid token.", id="other-secret"),
        pytest.param(supabase(aud="anon"), "Invalid token.", id="anon-audience"),
        pytest.param(supabase(aud=None), "Invalid token.", id="no-audience"),
        pytest.param(supabase(exp=None), "Invalid token.", id="no-expiry"),
        pytest.param(supabase(sub=None), "Invalid token.", id="no-subject"),
        pytest.param(supabase(sub="not-a-uuid"), "Invalid token.", id="subject-not-a-uuid"),
        pytest.param(
            supabase(exp=datetime.now(UTC) - timedelta(seconds=5)), "Token expired.", id="expired"
        ),
        pytest.param(
            supabase(alg="HS512"), "Token algorithm not accepted.", id="hs512-not-accepted"
        ),
    ],
)
async def test_a_supabase_token_not_signed_as_configured_is_refused(token: str, why: str) -> None:
    assert await refused(settings(supabase_secret=SUPABASE_SECRET), token) == why


async def test_an_asymmetric_token_needs_the_jwks_and_hs256_needs_the_secret(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    rs256 = supabase(key=rsa_key, alg="RS256", kid="k1")
    only_secret = settings(supabase_secret=SUPABASE_SECRET)
    assert await refused(only_secret, rs256) == "Token algorithm not accepted."
    only_jwks = settings(jwks_url="http://127.0.0.1:9/jwks.json")
    assert await refused(only_jwks, supabase()) == "Token algorithm not accepted."


# --- Supabase's signing keys (JWKS) ---------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    """Made once, in set-up: a 2048-bit key takes 50 to 200 ms of CPU, which inside a test body
    trips the check that nothing blocks the event loop."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks() -> Iterator[Jwks]:
    """A JWKS endpoint on loopback; the test sets its keys and reads how often it was asked."""
    with serve_jwks() as served:
        yield served


async def test_rs256_and_es256_tokens_are_verified_with_the_jwks_key_of_their_kid(
    jwks: Jwks, monkeypatch: pytest.MonkeyPatch, rsa_key: rsa.RSAPrivateKey
) -> None:
    monkeypatch.setattr(tokens, "jwks_cache", tokens._JwksCache())
    ec_key = ec.generate_private_key(ec.SECP256R1())
    jwks.keys = [public_jwk(rsa_key, "rsa-1", "RS256"), public_jwk(ec_key, "ec-1", "ES256")]
    s = settings(jwks_url=jwks.url)
    for key, alg, kid in ((rsa_key, "RS256", "rsa-1"), (ec_key, "ES256", "ec-1")):
        claims = await tokens.verify_access_token(s, supabase(key=key, alg=alg, kid=kid))
        assert (claims.user_id, claims.session_id, claims.supabase) == (USER, None, True)
    # Signed by a key of the set, but named as another: the named key's signature check fails.
    swapped = supabase(key=ec_key, alg="ES256", kid="rsa-1")
    assert await refused(s, swapped) == "Invalid token."
    unknown = supabase(key=rsa_key, alg="RS256", kid="rsa-2")
    assert await refused(s, unknown) == "Token signed by an unknown key."
    assert jwks.hits == ["/auth/v1/.well-known/jwks.json"] * 2  # once, and once for rsa-2


async def test_an_eddsa_token_is_verified_with_an_ed25519_key_of_the_jwks(
    jwks: Jwks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "jwks_cache", tokens._JwksCache())
    key = ed25519.Ed25519PrivateKey.generate()
    jwks.keys = [public_jwk(key, "ed-1", "EdDSA")]
    claims = await tokens.verify_access_token(
        settings(jwks_url=jwks.url), supabase(key=key, alg="EdDSA", kid="ed-1")
    )
    assert (claims.user_id, claims.supabase) == (USER, True)


async def test_a_jwks_document_without_keys_knows_no_key(jwks: Jwks) -> None:
    jwks.body = {"not-keys": []}
    cache = tokens._JwksCache()
    with pytest.raises(Unauthorized, match=r"^Token signed by an unknown key\.$"):
        await cache.key(jwks.url, "rsa-1")


async def test_a_jwks_endpoint_that_never_answers_fails_the_fetch_in_bounded_time() -> None:
    # Accepts the connection and never answers: the fetch gives up (after 5 s) instead of
    # holding the request that wanted the key.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/jwks.json"
        with pytest.raises(httpx.TimeoutException):
            await asyncio.wait_for(tokens._JwksCache().key(url, "k"), timeout=60)


def test_access_token_times_are_utc_whatever_the_servers_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        token = tokens.issue_access_token(settings(), USER, SESSION)
    finally:
        monkeypatch.undo()
        time.tzset()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert abs(claims["iat"] - datetime.now(UTC).timestamp()) <= 60


async def test_the_jwks_is_cached_for_ten_minutes_and_fetched_again_for_an_unknown_kid(
    jwks: Jwks, monkeypatch: pytest.MonkeyPatch, rsa_key: rsa.RSAPrivateKey
) -> None:
    jwks.keys = [public_jwk(rsa_key, "rsa-1", "RS256")]
    clock = [1000.0]
    # The module's clock only (the event loop keeps the real one).
    monkeypatch.setattr(tokens, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    cache = tokens._JwksCache()
    first = await cache.key(jwks.url, "rsa-1")
    clock[0] += 600
    assert await cache.key(jwks.url, "rsa-1") is first
    assert len(jwks.hits) == 1
    clock[0] += 1  # more than ten minutes since the fetch
    await cache.key(jwks.url, "rsa-1")
    assert len(jwks.hits) == 2
    # A rotated key: a kid not in the cache is fetched at once, and the old key is gone.
    jwks.keys = [public_jwk(rsa_key, "rsa-2", "RS256")]
    await cache.key(jwks.url, "rsa-2")
    assert len(jwks.hits) == 3
    with pytest.raises(Unauthorized) as refusal:
        await cache.key(jwks.url, "rsa-1")
    assert refusal.value.detail == "Token signed by an unknown key."
    assert len(jwks.hits) == 4


async def test_keys_the_service_cannot_read_are_skipped_and_a_kidless_key_is_found_as_none(
    jwks: Jwks,
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    kidless = public_jwk(rsa_key, "", "RS256")
    del kidless["kid"]
    jwks.keys = [
        {"kty": "unknown", "kid": "odd"},
        {"kty": "RSA", "kid": "no-alg", "alg": "XX999"},
        public_jwk(rsa_key, "rsa-1", "RS256"),
        kidless,
    ]
    cache = tokens._JwksCache()
    assert isinstance(await cache.key(jwks.url, "rsa-1"), jwt.PyJWK)
    assert isinstance(await cache.key(jwks.url, None), jwt.PyJWK)
    for skipped in ("odd", "no-alg"):
        with pytest.raises(Unauthorized, match="unknown key"):
            await cache.key(jwks.url, skipped)


async def test_a_jwks_endpoint_that_fails_is_an_error_not_an_empty_key_set(
    jwks: Jwks, rsa_key: rsa.RSAPrivateKey
) -> None:
    jwks.keys = [public_jwk(rsa_key, "rsa-1", "RS256")]
    cache = tokens._JwksCache()
    with pytest.raises(httpx.HTTPStatusError, match="404"):
        await cache.key(jwks.url.replace("jwks.json", "missing"), "rsa-1")
    assert len(jwks.hits) == 1
