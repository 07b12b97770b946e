"""Channel connections: a platform account of an agency, its encrypted credentials (OAuth code
exchange or given credentials), its test, its remote listings, and its status
(``active``, ``paused``, ``error``, ``revoked``: refused credentials are never retried)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms import db
from pms.channel import alerting
from pms.channel.adapters import adapter_for
from pms.channel.adapters.base import (
    Adapter,
    CredentialsRefused,
    Grant,
    PlatformError,
    RemoteListing,
    UnknownPlatform,
)
from pms.channel.errors import CredentialsRejected, PlatformUnavailable
from pms.core import audit, listing, secretbox
from pms.core.errors import Conflict, NotFound, Unprocessable
from pms.core.permissions import Permission
from pms.core.tenancy import Actor
from pms.logs import get_logger
from pms.models.channel import ChannelConnection, ChannelMapping, ConnectionStatus
from pms.settings import Settings

log = get_logger(__name__)
# Refresh an access token this long before it expires.
REFRESH_MARGIN = timedelta(seconds=60)


def _adapter(platform: str, settings: Settings) -> Adapter:
    try:
        return adapter_for(platform, settings)
    except UnknownPlatform:
        raise Unprocessable(
            f"No adapter for {platform} yet.",
            errors=[{"field": "platform", "in": "body", "message": "not supported yet"}],
        ) from None


def seal(settings: Settings, credentials: Mapping[str, Any]) -> str:
    return secretbox.encrypt(settings, json.dumps(dict(credentials)))


def unseal(settings: Settings, connection: ChannelConnection) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(secretbox.decrypt(settings, connection.credentials))
    return value


def _audit_view(c: ChannelConnection) -> dict[str, Any]:
    # Never the credentials, not even encrypted.
    return {"platform": c.platform, "name": c.name, "status": c.status, "account": c.account_id}


async def get(
    session: AsyncSession, actor: Actor, connection_id: uuid.UUID, *, lock: bool = False
) -> ChannelConnection:
    actor.require(Permission.CHANNELS_READ)
    stmt = select(ChannelConnection).where(
        ChannelConnection.id == connection_id,
        ChannelConnection.agency_id == actor.require_agency(),
    )
    if lock:
        stmt = stmt.with_for_update()
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound("Channel connection not found.")
    return found


async def list_(
    session: AsyncSession, actor: Actor, limit: int, offset: int
) -> tuple[list[ChannelConnection], int]:
    actor.require(Permission.CHANNELS_READ)
    stmt = (
        select(ChannelConnection)
        .where(ChannelConnection.agency_id == actor.require_agency())
        .order_by(ChannelConnection.created_at, ChannelConnection.id)
    )
    return await listing.page(session, stmt, limit, offset)


async def _grant(
    adapter: Adapter, code: str | None, credentials: Mapping[str, Any] | None
) -> Grant:
    try:
        if code is not None:
            return await adapter.exchange_code(code)
        assert credentials is not None
        return await adapter.check_credentials(credentials)
    except CredentialsRefused as exc:
        raise CredentialsRejected(
            f"{adapter.platform} refused the authorization (HTTP {exc.status})."
        ) from None
    except PlatformError as exc:
        raise PlatformUnavailable(
            f"{adapter.platform} could not be reached ({exc.status})."
        ) from None


async def create(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    *,
    platform: str,
    name: str | None,
    authorization_code: str | None,
    credentials: Mapping[str, Any] | None,
) -> ChannelConnection:
    """Exchange the OAuth code (or check the given credentials) with the platform and store
    them encrypted. The same platform account twice in one agency is a 409."""
    actor.require(Permission.CHANNEL_CREDENTIALS)
    agency_id = actor.require_agency()
    adapter = _adapter(platform, settings)
    grant = await _grant(adapter, authorization_code, credentials)
    account = grant.account_id or str((credentials or {}).get("account_id") or "")
    exists = (
        await session.execute(
            select(ChannelConnection.id).where(
                ChannelConnection.agency_id == agency_id,
                ChannelConnection.platform == platform,
                ChannelConnection.account_id == account,
            )
        )
    ).first()
    if exists is not None:
        raise Conflict(
            "This platform account is already connected.", conflict_type="duplicate_connection"
        )
    try:
        listings = await adapter.list_listings(grant.credentials)
    except PlatformError as exc:
        raise PlatformUnavailable(
            f"{platform} listings could not be read ({exc.status})."
        ) from None
    connection = ChannelConnection(
        id=uuid.uuid4(),
        agency_id=agency_id,
        platform=platform,
        name=name or f"{platform} {account}",
        status=ConnectionStatus.ACTIVE,
        account_id=account,
        credentials=seal(settings, grant.credentials),
        remote_listings=[_listing_json(x) for x in listings],
        failures_in_row=0,
    )
    session.add(connection)
    await session.flush()
    await audit.record(
        session,
        actor,
        agency_id=agency_id,
        entity_type="channel_connection",
        entity_id=connection.id,
        action="created",
        after=_audit_view(connection),
    )
    return connection


def _listing_json(x: RemoteListing) -> dict[str, Any]:
    return {"id": x.id, "currency": x.currency, "name": x.name}


async def set_status(
    session: AsyncSession, actor: Actor, connection_id: uuid.UUID, status: ConnectionStatus
) -> ChannelConnection:
    """Pause or resume. A revoked connection is resumed only by connecting again."""
    actor.require(Permission.CHANNELS_MANAGE)
    connection = await get(session, actor, connection_id, lock=True)
    if connection.status == status:
        return connection
    if status not in (ConnectionStatus.ACTIVE, ConnectionStatus.PAUSED):
        raise Unprocessable(
            "Only active or paused can be set.",
            errors=[{"field": "status", "in": "body", "message": "active or paused"}],
        )
    if connection.status == ConnectionStatus.REVOKED:
        raise Conflict(
            "The platform revoked this connection's credentials: connect the account again.",
            conflict_type="connection_revoked",
        )
    before = _audit_view(connection)
    connection.status = status
    await audit.record(
        session,
        actor,
        agency_id=connection.agency_id,
        entity_type="channel_connection",
        entity_id=connection.id,
        action=f"status:{status}",
        before=before,
        after=_audit_view(connection),
    )
    return connection


async def delete(session: AsyncSession, actor: Actor, connection_id: uuid.UUID) -> None:
    """Disconnect: mappings go with it; the platform keeps what it shows."""
    actor.require(Permission.CHANNEL_CREDENTIALS)
    connection = await get(session, actor, connection_id, lock=True)
    await audit.record(
        session,
        actor,
        agency_id=connection.agency_id,
        entity_type="channel_connection",
        entity_id=connection.id,
        action="deleted",
        before=_audit_view(connection),
    )
    await session.delete(connection)


# --- credentials at work ---------------------------------------------------------------------


async def fresh_credentials(
    settings: Settings, connection: ChannelConnection, *, force: bool = False
) -> dict[str, Any]:
    """The connection's credentials, refreshed first if they expire soon (or ``force``); a
    refreshed grant is stored at once (refresh tokens are single use). Refused → revoked."""
    credentials = unseal(settings, connection)
    expires = credentials.get("expires_at")
    due = expires is not None and datetime.fromisoformat(expires) - REFRESH_MARGIN <= datetime.now(
        UTC
    )
    if not (force or due) or "refresh_token" not in credentials:
        return credentials
    adapter = adapter_for(connection.platform, settings)
    try:
        grant = await adapter.refresh(credentials)
    except CredentialsRefused as exc:
        await mark_revoked(connection.agency_id, connection.id, str(exc))
        raise
    async with db.transaction(connection.agency_id) as session:
        row = await session.get(ChannelConnection, connection.id, with_for_update=True)
        if row is not None:
            row.credentials = seal(settings, grant.credentials)
    connection.credentials = seal(settings, grant.credentials)
    return grant.credentials


async def mark_revoked(agency_id: uuid.UUID, connection_id: uuid.UUID, reason: str) -> None:
    """The platform refuses the credentials for good: stop (no retries) and tell a person."""
    async with db.transaction(agency_id) as session:
        row = await session.get(ChannelConnection, connection_id, with_for_update=True)
        if row is None or row.status == ConnectionStatus.REVOKED:
            return
        row.status = ConnectionStatus.REVOKED
        row.last_error = reason[:500]
        await audit.record(
            session,
            None,
            agency_id=agency_id,
            entity_type="channel_connection",
            entity_id=row.id,
            action="status:revoked",
            after=_audit_view(row),
        )
        await alerting.raise_once(
            session,
            agency_id=agency_id,
            kind=alerting.REVOKED,
            subject=str(row.id),
            message=f"{row.platform} refused the credentials of '{row.name}': connect it again.",
        )
    log.warning("channel_connection_revoked", connection_id=str(connection_id))


async def test(
    session: AsyncSession, actor: Actor, settings: Settings, connection_id: uuid.UUID
) -> tuple[bool, str]:
    """Check the stored credentials against the platform (a refused one is revoked)."""
    actor.require(Permission.CHANNELS_MANAGE)
    connection = await get(session, actor, connection_id)
    adapter = adapter_for(connection.platform, settings)
    try:
        credentials = await fresh_credentials(settings, connection)
        try:
            listings = await adapter.list_listings(credentials)
        except PlatformError as exc:
            if exc.status != 401:
                raise
            credentials = await fresh_credentials(settings, connection, force=True)
            listings = await adapter.list_listings(credentials)
    except CredentialsRefused:
        await mark_revoked(connection.agency_id, connection.id, "credentials refused on test")
        await session.refresh(connection)
        return False, "The platform refused the credentials; the connection is revoked."
    except PlatformError as exc:
        return False, f"The platform did not answer as expected (HTTP {exc.status})."
    return True, f"Credentials accepted; {len(listings)} listings."


async def remote_listings(
    session: AsyncSession, actor: Actor, settings: Settings, connection_id: uuid.UUID
) -> list[tuple[RemoteListing, ChannelMapping | None]]:
    """The platform's listings now (stored for matching webhooks), each with its mapping."""
    actor.require(Permission.CHANNELS_READ)
    connection = await get(session, actor, connection_id)
    adapter = adapter_for(connection.platform, settings)
    try:
        credentials = await fresh_credentials(settings, connection)
        listings = await adapter.list_listings(credentials)
    except CredentialsRefused:
        raise CredentialsRejected("The platform refused the credentials.") from None
    except PlatformError as exc:
        raise PlatformUnavailable(f"Listings could not be read (HTTP {exc.status}).") from None
    connection.remote_listings = [_listing_json(x) for x in listings]
    mapped = {
        m.remote_listing_id: m
        for m in (
            await session.execute(
                select(ChannelMapping).where(
                    ChannelMapping.connection_id == connection.id, ChannelMapping.active
                )
            )
        ).scalars()
    }
    return [(x, mapped.get(x.id)) for x in listings]
