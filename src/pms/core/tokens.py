"""Bearer tokens: the app's own short-lived JWTs and opaque rotating refresh tokens, and
Supabase Auth JWTs (HS256 secret or a JWKS)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt

from pms.core.errors import Unauthorized
from pms.settings import Settings

ISSUER = "pms-webapp"
AUDIENCE = "pms-api"
SUPABASE_AUDIENCE = "authenticated"


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID | None  # None for Supabase-issued tokens
    supabase: bool = False
    email: str | None = None
    expires_at: float = 0.0  # the token's exp (seconds since the epoch)


def issue_access_token(settings: Settings, user_id: uuid.UUID, session_id: uuid.UUID) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "sid": str(session_id),
        "iat": now,
        "exp": now + timedelta(seconds=settings.access_token_ttl_seconds),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm="HS256")


def new_refresh_secret() -> str:
    return secrets.token_urlsafe(32)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


def split_refresh_token(token: str) -> tuple[uuid.UUID, str]:
    """A refresh token is ``<session id>.<secret>``; only the secret's hash is stored."""
    sid, _, secret = token.partition(".")
    try:
        return uuid.UUID(sid), secret
    except ValueError:
        raise Unauthorized("Invalid refresh token.") from None


class _JwksCache:
    """Supabase's signing keys, fetched without blocking the event loop and cached."""

    def __init__(self) -> None:
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0

    async def key(self, url: str, kid: str | None) -> jwt.PyJWK:
        if kid not in self._keys or time.monotonic() - self._fetched_at > 600:
            async with httpx.AsyncClient(timeout=5) as client:
                resp = await client.get(url)
                resp.raise_for_status()
            keys: dict[str, jwt.PyJWK] = {}
            for raw in resp.json().get("keys", []):
                try:
                    k = jwt.PyJWK(raw)
                except (jwt.PyJWKError, jwt.InvalidKeyError):
                    # A key this service cannot use (an unknown key type or curve, no
                    # algorithm for it) is skipped; the set's other keys still verify.
                    continue
                keys[str(raw.get("kid"))] = k
            self._keys, self._fetched_at = keys, time.monotonic()
        found = self._keys.get(str(kid))
        if found is None:
            raise Unauthorized("Token signed by an unknown key.")
        return found


jwks_cache = _JwksCache()


class _Verified:
    """The service's own access tokens whose signature and claims this process has checked,
    with the claims read: checking them is a function of the token and the key alone, and
    cost about a tenth of a booking creation's CPU (PyJWT checks every character of each
    segment). Only that check is kept: expiry is checked again on every use, and whether the
    session behind a token is still open (logout, revocation, a disabled account) is read from
    the database on every request (``auth.authenticate``), so nothing a process keeps here can
    let an ended session act, in this process or any other. Keyed by the signing key: another
    key starts over. Bounded: when full, it starts over."""

    MAX = 10_000

    def __init__(self) -> None:
        self._key: str | None = None
        self._claims: dict[str, AccessClaims] = {}

    def get(self, key: str, token: str) -> AccessClaims | None:
        return self._claims.get(token) if key == self._key else None

    def add(self, key: str, token: str, claims: AccessClaims) -> None:
        if key != self._key or len(self._claims) >= self.MAX:
            self._key, self._claims = key, {}
        self._claims[token] = claims

    def drop(self, token: str) -> None:
        self._claims.pop(token, None)


verified_tokens = _Verified()


async def verify_access_token(settings: Settings, token: str) -> AccessClaims:
    known = verified_tokens.get(settings.secret_key.get_secret_value(), token)
    if known is not None:
        # As PyJWT decides it: expired once ``exp`` is not after now.
        if known.expires_at <= time.time():
            verified_tokens.drop(token)
            raise Unauthorized("Token expired.")
        return known
    try:
        # Header and claims in one parse (a parse checks every character of the token).
        unverified = jwt.decode_complete(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Unauthorized("Malformed bearer token.") from None
    header: dict[str, Any] = unverified["header"]
    if unverified["payload"].get("iss") == ISSUER:
        return _verify_own(settings, token)
    if settings.supabase_jwt_secret or settings.supabase_jwks_url:
        return await _verify_supabase(settings, token, header)
    raise Unauthorized("Token not issued by this service.")


def _verify_own(settings: Settings, token: str) -> AccessClaims:
    key = settings.secret_key.get_secret_value()
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "sid", "aud", "iss"]},
        )
        verified = AccessClaims(
            uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"]), expires_at=float(claims["exp"])
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Token expired.") from None
    except (jwt.PyJWTError, ValueError):
        raise Unauthorized("Invalid token.") from None
    verified_tokens.add(key, token, verified)
    return verified


async def _verify_supabase(settings: Settings, token: str, header: dict[str, Any]) -> AccessClaims:
    alg = header.get("alg")
    key: Any
    if alg == "HS256" and settings.supabase_jwt_secret:
        key = settings.supabase_jwt_secret.get_secret_value()
    elif alg in ("RS256", "ES256", "EdDSA") and settings.supabase_jwks_url:
        key = await jwks_cache.key(settings.supabase_jwks_url, header.get("kid"))
    else:
        raise Unauthorized("Token algorithm not accepted.")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=SUPABASE_AUDIENCE,
            options={"require": ["exp", "sub", "aud"]},
        )
        return AccessClaims(
            uuid.UUID(claims["sub"]),
            None,
            supabase=True,
            email=claims.get("email"),
            expires_at=float(claims["exp"]),
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Token expired.") from None
    except (jwt.PyJWTError, ValueError):
        raise Unauthorized("Invalid token.") from None
