"""Typed dependencies: the database session (one transaction per request) and the actor with
the permission an endpoint needs, visible in its signature."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.requests import HTTPConnection
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import auth
from pms.core.errors import Unauthorized, Unprocessable
from pms.core.permissions import Permission
from pms.core.tenancy import Actor
from pms.db import get_sessionmaker
from pms.settings import Settings, get_settings


async def _db(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed when the endpoint returns (after its response is
    built, before it is sent), rolled back on error. The session is left in the request state
    so that the response can be stored with the change it answers (``pms.api.idempotency``)."""
    async with get_sessionmaker()() as session, session.begin():
        request.state.db = session
        yield session


DB = Annotated[AsyncSession, Depends(_db, scope="function")]


async def _settings() -> Settings:
    # Async on purpose: FastAPI runs plain-def dependencies in a thread pool, a hop per request.
    return get_settings()


AppSettings = Annotated[Settings, Depends(_settings)]


class _BearerScheme(HTTPBearer):
    """The bearer scheme in the OpenAPI document. Its dependency reads nothing: `caller` is
    the one place the token is read (parsing the header into a model here was per-request
    work whose result no endpoint used)."""

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        return None


_bearer = _BearerScheme(
    auto_error=False,
    description="Access token from /api/v1/auth/login",
    scheme_name=HTTPBearer.__name__,
)


_AgencyHeader = Annotated[
    str | None,
    Header(description="The agency to act in, when you belong to several."),
]


async def _agency_header_text(x_agency_id: _AgencyHeader = None) -> str | None:
    return x_agency_id


async def _agency_header(
    x_agency_id: Annotated[str | None, Depends(_agency_header_text)],
) -> uuid.UUID | None:
    return _agency_id(x_agency_id)


def _agency_id(x_agency_id: str | None) -> uuid.UUID | None:
    if x_agency_id is None:
        return None
    try:
        return uuid.UUID(x_agency_id)
    except ValueError:
        raise Unprocessable(
            "X-Agency-Id must be a UUID.",
            errors=[{"field": "X-Agency-Id", "in": "header", "message": "not a UUID"}],
        ) from None


@dataclass(frozen=True)
class Caller:
    """Who sent the request: the user behind its bearer token and the app session (None for a
    Supabase token)."""

    user: auth.Identity
    session_id: uuid.UUID | None
    memberships: auth.Memberships | None  # read with the token (app sessions)


async def caller(request: Request, session: AsyncSession) -> Caller | None:
    """The one place a request's bearer token is read and verified. The result (None without
    an ``Authorization`` header) is kept in the request state, so every dependency that needs
    it (the actor, idempotency, the event stream) reads the same answer in the same request."""
    state = request.state
    if hasattr(state, "caller"):
        cached: Caller | None = state.caller
        return cached
    header = request.headers.get("authorization")
    if header is None:
        state.caller = None
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    # The agency named in X-Agency-Id lets the same round trip read the membership in it; an
    # invalid header is answered (422) by the dependency that reads it, after the token.
    try:
        agency = _agency_id(request.headers.get("x-agency-id"))
    except Unprocessable:
        agency = None
    user, session_id, memberships = await auth.authenticate(
        session, get_settings(), token.strip(), agency
    )
    state.caller = Caller(user, session_id, memberships)
    state.user_id = user.id
    return state.caller  # type: ignore[no-any-return]


async def _optional_caller(
    request: Request,
    session: DB,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller | None:
    return await caller(request, session)


OptionalCaller = Annotated[Caller | None, Depends(_optional_caller)]


async def _authenticated(found: OptionalCaller) -> Caller:
    if found is None:
        raise Unauthorized()
    return found


Authenticated = Annotated[Caller, Depends(_authenticated)]


async def _actor(
    session: DB,
    found: Authenticated,
    agency_id: Annotated[uuid.UUID | None, Depends(_agency_header)],
) -> Actor:
    """The caller as an actor: the membership and role in the agency it acts in, read from the
    database (never from a token claim); the transaction is scoped to it for RLS."""
    return await auth.resolve_actor(session, found.user, agency_id, found.memberships)


CurrentActor = Annotated[Actor, Depends(_actor)]


def permission(perm: Permission) -> object:
    # What `CurrentActor` resolves, in one dependency instead of five nested ones (the same
    # parameters, so the same OpenAPI): each level costs FastAPI a solve on every request.
    async def check(
        request: Request,
        session: DB,
        _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        x_agency_id: _AgencyHeader = None,
    ) -> Actor:
        found = await caller(request, session)
        if found is None:
            raise Unauthorized()
        # Checked after the token, as `_actor` does: without a valid token the answer is 401.
        actor = await auth.resolve_actor(
            session, found.user, _agency_id(x_agency_id), found.memberships
        )
        actor.require_agency()
        actor.require(perm)
        return actor

    check.__name__ = f"require_{perm.name.lower()}"
    return Depends(check)


P = Permission
AgencyManage = Annotated[Actor, permission(P.AGENCY_MANAGE)]
TeamRead = Annotated[Actor, permission(P.TEAM_READ)]
TeamManage = Annotated[Actor, permission(P.TEAM_MANAGE)]
AuditRead = Annotated[Actor, permission(P.AUDIT_READ)]
PropertiesRead = Annotated[Actor, permission(P.PROPERTIES_READ)]
PropertiesWrite = Annotated[Actor, permission(P.PROPERTIES_WRITE)]
GuestsRead = Annotated[Actor, permission(P.GUESTS_READ)]
GuestsWrite = Annotated[Actor, permission(P.GUESTS_WRITE)]
GuestsExportErase = Annotated[Actor, permission(P.GUESTS_EXPORT_ERASE)]
BookingsRead = Annotated[Actor, permission(P.BOOKINGS_READ)]
PaymentsRead = Annotated[Actor, permission(P.PAYMENTS_READ)]
BookingsCreate = Annotated[Actor, permission(P.BOOKINGS_CREATE)]
BookingsUpdate = Annotated[Actor, permission(P.BOOKINGS_UPDATE)]
BookingsCancel = Annotated[Actor, permission(P.BOOKINGS_CANCEL)]
RatesRead = Annotated[Actor, permission(P.RATES_READ)]
RatesWrite = Annotated[Actor, permission(P.RATES_WRITE)]
ChannelsRead = Annotated[Actor, permission(P.CHANNELS_READ)]
ChannelsManage = Annotated[Actor, permission(P.CHANNELS_MANAGE)]


async def _agency_actor(actor: CurrentActor) -> Actor:
    """Any member of an agency; the service checks the finer permission (e.g. per action)."""
    actor.require_agency()
    return actor


AgencyMember = Annotated[Actor, Depends(_agency_actor)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
