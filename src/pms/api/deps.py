"""Typed dependencies: the database session (one transaction per request) and the actor with
the permission an endpoint needs, visible in its signature."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Scope

from pms.core import auth
from pms.core.errors import Unauthorized, Unprocessable
from pms.core.permissions import Permission
from pms.core.tenancy import Actor
from pms.db import get_sessionmaker, publish_writes, will_publish
from pms.models.user import User
from pms.redis_client import get_redis
from pms.settings import Settings, get_settings


async def _db() -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed when the endpoint returns, rolled back on error.
    What it wrote invalidates cached reads before the reply goes out (``pms.core.generations``)."""
    async with get_sessionmaker()() as session:
        will_publish(session)
        async with session.begin():
            yield session
        await publish_writes(session)


DB = Annotated[AsyncSession, Depends(_db, scope="function")]


async def _settings() -> Settings:
    # Async on purpose: FastAPI runs plain-def dependencies in a thread pool, a hop per request.
    return get_settings()


AppSettings = Annotated[Settings, Depends(_settings)]

_bearer = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/login")


async def _agency_header(
    x_agency_id: Annotated[
        str | None,
        Header(description="The agency to act in, when you belong to several."),
    ] = None,
) -> uuid.UUID | None:
    if x_agency_id is None:
        return None
    try:
        return uuid.UUID(x_agency_id)
    except ValueError:
        raise Unprocessable(
            "X-Agency-Id must be a UUID.",
            errors=[{"field": "X-Agency-Id", "in": "header", "message": "not a UUID"}],
        ) from None


async def _authenticated(
    session: DB,
    settings: AppSettings,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> tuple[User, uuid.UUID | None]:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    user, sid = await auth.authenticate(session, settings, credentials.credentials)
    request.state.user_id = user.id
    return user, sid


Authenticated = Annotated[tuple[User, uuid.UUID | None], Depends(_authenticated)]


async def _actor(
    session: DB,
    settings: AppSettings,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    agency_id: Annotated[uuid.UUID | None, Depends(_agency_header)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    actor, gens = await auth.actor_for_token(
        session,
        settings,
        get_redis(),
        credentials.credentials,
        agency_id,
        getattr(request.state, "generations", None),
    )
    request.state.user_id = actor.user_id
    if gens is not None:
        request.state.generations = gens
    return actor


CurrentActor = Annotated[Actor, Depends(_actor)]


def permission(perm: Permission) -> object:
    async def check(actor: CurrentActor) -> Actor:
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
BookingsCreate = Annotated[Actor, permission(P.BOOKINGS_CREATE)]
BookingsUpdate = Annotated[Actor, permission(P.BOOKINGS_UPDATE)]
RatesRead = Annotated[Actor, permission(P.RATES_READ)]
RatesWrite = Annotated[Actor, permission(P.RATES_WRITE)]
ChannelsRead = Annotated[Actor, permission(P.CHANNELS_READ)]
ChannelsManage = Annotated[Actor, permission(P.CHANNELS_MANAGE)]


async def _agency_actor(actor: CurrentActor) -> Actor:
    """Any member of an agency; the service checks the finer permission (e.g. per action)."""
    actor.require_agency()
    return actor


AgencyMember = Annotated[Actor, Depends(_agency_actor)]


def bearer_and_agency(scope: Scope) -> tuple[str, uuid.UUID | None] | None:
    token: str | None = None
    agency: uuid.UUID | None = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not credentials.strip():
                return None
            token = credentials.strip()
        elif name == b"x-agency-id":
            try:
                agency = uuid.UUID(value.decode("latin-1"))
            except ValueError:
                return None  # the endpoint answers the 422
    return (token, agency) if token else None


async def known_caller(scope: Scope) -> tuple[Actor, dict[str, str]] | None:
    """For work done in front of routing: the actor of a request whose bearer token this
    process already knows and which still holds (``auth.known_actor``: one Redis round trip),
    with the generations read; else None, and the endpoint's own dependencies decide. Notes
    both in the request's state as ``_actor`` would."""
    found = bearer_and_agency(scope)
    if found is None:
        return None
    known = await auth.known_actor(get_redis(), *found)
    if known is None:
        return None
    actor, gens = known
    state = scope.setdefault("state", {})
    state["generations"] = gens
    state["user_id"] = actor.user_id
    return known


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
