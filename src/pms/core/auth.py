"""Sign-up, login, refresh-token rotation, logout, and resolving a bearer token to an Actor."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import audit, login_throttle, ratelimit
from pms.core.errors import Conflict, Forbidden, Unauthorized
from pms.core.passwords import hash_password, verify_password
from pms.core.permissions import Role
from pms.core.tenancy import Actor, scope_transaction
from pms.core.tokens import (
    AccessClaims,
    issue_access_token,
    new_refresh_secret,
    same_hash,
    split_refresh_token,
    token_hash,
    verify_access_token,
)
from pms.models.agency import Agency, Membership
from pms.models.user import AuthSession, User
from pms.prepared import Prepared
from pms.settings import Settings

_LOGIN_WINDOW = 15 * 60


@dataclass(frozen=True)
class Identity:
    """The user behind a request's token, as the request reads it: read as plain columns (no
    entity to load, and never the password hash)."""

    id: uuid.UUID
    email: str
    full_name: str | None
    is_active: bool

    @classmethod
    def of(cls, user: User) -> Identity:
        return cls(user.id, user.email, user.full_name, user.is_active)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    return (
        await session.execute(select(User).where(func.lower(User.email) == normalize_email(email)))
    ).scalar_one_or_none()


# Slugs name agencies in public URLs (/api/v1/public/{slug}/... and the guests' booking site at
# /{slug} in web/); these would collide with the literal public routes beside the slug
# parameter, or with the team app's top-level pages (web/src/app).
RESERVED_SLUGS = frozenset(
    {"bookings", "api", "admin", "public", "static", "agency"}
    | {"calendar", "payments", "properties", "rates", "guests", "team", "channels"}
    | {"channel-manager", "login", "signup", "accept", "widget-js", "sitemap-xml", "robots-txt"}
)


def _slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "agency"
    return f"{slug}-agency" if slug in RESERVED_SLUGS else slug


async def _unique_slug(session: AsyncSession, name: str) -> str:
    base = _slugify(name)
    slug = base
    while (await session.execute(select(Agency.id).where(Agency.slug == slug))).first():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


async def create_user(
    session: AsyncSession, email: str, password: str | None, full_name: str | None = None
) -> User:
    if await find_user_by_email(session, email):
        raise Conflict("An account with this e-mail already exists.", conflict_type="email_taken")
    user = User(
        id=uuid.uuid4(),
        email=normalize_email(email),
        full_name=full_name,
        password_hash=await hash_password(password) if password else None,
    )
    session.add(user)
    await session.flush()
    return user


async def signup(
    session: AsyncSession, settings: Settings, *, email: str, password: str, agency_name: str
) -> tuple[User, Agency, TokenPair]:
    user = await create_user(session, email, password)
    agency = Agency(
        id=uuid.uuid4(), name=agency_name, slug=await _unique_slug(session, agency_name)
    )
    session.add(agency)
    await session.flush()
    await scope_transaction(session, user_id=user.id, agency_id=agency.id)
    session.add(Membership(agency_id=agency.id, user_id=user.id, role=Role.ADMIN))
    actor = Actor(user.id, user.email, agency.id, Role.ADMIN)
    await audit.record(
        session,
        actor,
        agency_id=agency.id,
        entity_type="agency",
        entity_id=agency.id,
        action="created",
        after=audit.snapshot(agency),
    )
    return user, agency, await start_session(session, settings, user.id)


async def start_session(session: AsyncSession, settings: Settings, user_id: uuid.UUID) -> TokenPair:
    secret = new_refresh_secret()
    auth = AuthSession(
        id=uuid.uuid4(),
        user_id=user_id,
        refresh_hash=token_hash(secret),
        expires_at=datetime.now(UTC) + timedelta(days=settings.refresh_token_ttl_days),
    )
    session.add(auth)
    await session.flush()
    return TokenPair(
        access_token=issue_access_token(settings, user_id, auth.id),
        refresh_token=f"{auth.id}.{secret}",
        expires_in=settings.access_token_ttl_seconds,
    )


async def login(
    session: AsyncSession,
    settings: Settings,
    redis: Redis,
    *,
    email: str,
    password: str,
    client_ip: str,
) -> TokenPair:
    email = normalize_email(email)
    # Spraying passwords from one address is counted per address; guessing at one account is
    # slowed per (account, address), so a guesser never locks the owner out.
    await ratelimit.hit(
        redis, f"login:ip:{client_ip}", settings.login_attempts_per_ip, _LOGIN_WINDOW
    )
    await login_throttle.check(redis, settings, email, client_ip)
    user = await find_user_by_email(session, email)
    ok = await verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        await login_throttle.failed(redis, settings, email, client_ip)
        raise Unauthorized("E-mail or password is wrong.")
    await login_throttle.succeeded(redis, email, client_ip)
    return await start_session(session, settings, user.id)


async def refresh(session: AsyncSession, settings: Settings, refresh_token: str) -> TokenPair:
    sid, secret = split_refresh_token(refresh_token)
    auth = (
        await session.execute(select(AuthSession).where(AuthSession.id == sid).with_for_update())
    ).scalar_one_or_none()
    if auth is None or auth.revoked_at is not None or auth.expires_at <= datetime.now(UTC):
        raise Unauthorized("Refresh token is no longer valid.")
    if not same_hash(auth.refresh_hash, token_hash(secret)):
        # A rotated-away token came back: someone holds a copy. End the whole session, and
        # commit that even though the request fails.
        auth.revoked_at = datetime.now(UTC)
        auth.revoked_reason = "refresh_token_reuse"
        await session.commit()
        raise Unauthorized("Refresh token reuse detected; the session has been revoked.")
    new_secret = new_refresh_secret()
    auth.refresh_hash = token_hash(new_secret)
    auth.generation += 1
    return TokenPair(
        access_token=issue_access_token(settings, auth.user_id, auth.id),
        refresh_token=f"{auth.id}.{new_secret}",
        expires_in=settings.access_token_ttl_seconds,
    )


async def logout(session: AsyncSession, session_id: uuid.UUID) -> None:
    auth = await session.get(AuthSession, session_id, with_for_update=True)
    if auth is not None and auth.revoked_at is None:
        auth.revoked_at = datetime.now(UTC)
        auth.revoked_reason = "logout"


async def _user_for_supabase(session: AsyncSession, claims: AccessClaims) -> User:
    user = (
        await session.execute(select(User).where(User.supabase_user_id == claims.user_id))
    ).scalar_one_or_none()
    if user is not None:
        return user
    if claims.email:
        user = await find_user_by_email(session, claims.email)
        if user is not None:
            user.supabase_user_id = claims.user_id
            return user
        user = await create_user(session, claims.email, None)
        user.supabase_user_id = claims.user_id
        return user
    raise Unauthorized("Supabase token has no e-mail and is not linked to a user.")


# The statements of every authenticated request: built once, of plain columns, sent straight
# to the driver (`pms.prepared`).
_UUID = Membership.__table__.c.user_id.type
# A caller in one round trip (migration 0020 says why it is a function): the user and its app
# session (none given: the user alone), the user's memberships (in the agency asked for, or
# all), and the transaction scoped to the user, and to the agency when exactly one matched.
_CALLER = Prepared(
    text("SELECT * FROM pms_caller(:auth_user, :auth_session, :auth_agency)").bindparams(
        bindparam("auth_user", type_=_UUID),
        bindparam("auth_session", type_=_UUID),
        bindparam("auth_agency", type_=_UUID),
    )
)


@dataclass(frozen=True)
class Memberships:
    """A user's memberships as (agency, role), read with the token: those in the agency the
    request named (``agency``), or all of them when it named none."""

    agency: uuid.UUID | None
    rows: tuple[tuple[uuid.UUID, str], ...]


async def authenticate(
    session: AsyncSession,
    settings: Settings,
    token: str,
    requested_agency: uuid.UUID | None = None,
) -> tuple[Identity, uuid.UUID | None, Memberships | None]:
    """The user behind a bearer token and the app session id (None for Supabase tokens). For
    an app session the same round trip reads the user's memberships (in ``requested_agency``,
    if given) and scopes the transaction (`_CALLER`); `resolve_actor` takes them from there."""
    claims = await verify_access_token(settings, token)
    if claims.supabase:
        user = Identity.of(await _user_for_supabase(session, claims))
        if not user.is_active:
            raise Unauthorized("Account disabled.")
        return user, None, None
    rows = await _caller_rows(session, claims.user_id, claims.session_id, requested_agency)
    if not rows:
        raise Unauthorized("Session has ended; log in again.")
    email, full_name, is_active, revoked_at, expires_at, agency_ids, roles = rows[0]
    if revoked_at is not None or expires_at <= datetime.now(UTC):
        raise Unauthorized("Session has ended; log in again.")
    if not is_active:
        raise Unauthorized("Account disabled.")
    user = Identity(claims.user_id, email, full_name, is_active)
    return user, claims.session_id, _memberships_of(requested_agency, agency_ids, roles)


async def _caller_rows(
    session: AsyncSession,
    user_id: uuid.UUID,
    session_id: uuid.UUID | None,
    requested_agency: uuid.UUID | None,
) -> list[tuple[Any, ...]]:
    return await _CALLER.execute(
        session,
        {"auth_user": user_id, "auth_session": session_id, "auth_agency": requested_agency},
    )


def _memberships_of(
    requested_agency: uuid.UUID | None, agency_ids: list[Any], roles: list[str]
) -> Memberships:
    return Memberships(
        requested_agency,
        tuple(
            (uuid.UUID(str(agency_id)), role)
            for agency_id, role in zip(agency_ids, roles, strict=True)
        ),
    )


async def memberships(session: AsyncSession, user_id: uuid.UUID) -> list[tuple[Membership, Agency]]:
    rows = await session.execute(
        select(Membership, Agency)
        .join(Agency, Agency.id == Membership.agency_id)
        .where(Membership.user_id == user_id)
        .order_by(Agency.name)
    )
    return [(m, a) for m, a in rows.all()]


async def resolve_actor(
    session: AsyncSession,
    user: Identity,
    requested_agency: uuid.UUID | None,
    known: Memberships | None = None,
) -> Actor:
    """The user as an actor in the agency it asked for (or its only one), with the
    transaction scoped to it (`_CALLER`). ``known``: the memberships `authenticate` read for
    the same agency request, which scoped the transaction already."""
    if known is None or known.agency != requested_agency:
        rows = await _caller_rows(session, user.id, None, requested_agency)
        if not rows:
            raise Unauthorized("Account not found.")
        known = _memberships_of(requested_agency, *rows[0][-2:])
    mine = known.rows
    if requested_agency is not None and not mine:
        raise Forbidden("You are not a member of the agency named in X-Agency-Id.")
    if len(mine) > 1:
        raise AgencyRequired(
            "You belong to several agencies; choose one with the X-Agency-Id header.",
            agencies=[str(agency_id) for agency_id, _ in mine],
        )
    if not mine:
        return Actor(user.id, user.email, None, None)
    agency_id, role = mine[0]
    return Actor(user.id, user.email, agency_id, Role(role))


class AgencyRequired(Conflict):
    status = 400
    code = "agency-required"
    title = "Agency required"


async def current_role(
    session: AsyncSession,
    user_id: uuid.UUID,
    session_id: uuid.UUID | None,
    agency_id: uuid.UUID,
) -> Role | None:
    """The user's role in the agency now, or None when the access has ended since the caller
    was resolved: the app session logged out, revoked or expired, the account disabled, or
    the membership removed. For long-lived requests (the event stream), which must not keep
    the answer they started with."""
    await scope_transaction(session, user_id=user_id, agency_id=agency_id)
    stmt = (
        select(Membership.role)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.agency_id == agency_id,
            Membership.user_id == user_id,
            User.is_active.is_(True),
        )
    )
    if session_id is not None:
        stmt = stmt.join(AuthSession, AuthSession.user_id == User.id).where(
            AuthSession.id == session_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > func.now(),
        )
    role = (await session.execute(stmt)).scalar_one_or_none()
    return Role(role) if role is not None else None
