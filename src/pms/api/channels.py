"""Channel Manager: connections, remote listings, mappings, sync log, dead letters,
reconciliation, conflicts, channel days, and the platforms' webhooks."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from pms.api.deps import DB, AppSettings, BookingsRead, ChannelsManage, ChannelsRead
from pms.api.idempotency import IdempotentRoute
from pms.api.responses import Responses
from pms.channel import (
    conflicts,
    connections,
    deadletters,
    inbox,
    mappings,
    reconcile,
    synclog,
)
from pms.channel import (
    status as channel_status,
)
from pms.channel.adapters.base import InvalidWebhook
from pms.channel.engine import dirty
from pms.channel.errors import WebhookRefused
from pms.core.tenancy import Actor
from pms.models.channel import ChannelConnection, ChannelMapping, ConnectionStatus
from pms.schemas.channel import (
    ChannelConflict,
    ChannelDay,
    ConflictResolve,
    Connection,
    ConnectionCreate,
    ConnectionTest,
    ConnectionUpdate,
    DeadLetter,
    FidelityWarning,
    ListingHealth,
    Mapping,
    MappingCreate,
    MappingUpdate,
    ReconcileQueued,
    RemoteListing,
    SyncLogEntry,
    WebhookReceipt,
)
from pms.schemas.common import Page, PageParams, page_params
from pms.schemas.dates import DateWindow
from pms.settings import get_settings

router = APIRouter(route_class=IdempotentRoute, tags=["channels"])
# The platforms' webhooks: signed, and made idempotent by the platform's own message id (the
# inbox stores each once), so they take no Idempotency-Key and need no request transaction.
webhook_router = APIRouter(tags=["channels"])
_404: Responses = {404: {"description": "No such connection, mapping or object in this agency"}}
_502: Responses = {502: {"description": "The platform did not answer as expected"}}


async def _connection(session: DB, c: ChannelConnection) -> Connection:
    overall, _ = await channel_status.connection_health(session, c)
    out = Connection.model_validate(c)
    out.health = ListingHealth.model_validate(overall.__dict__)
    out.warnings = [
        FidelityWarning.model_validate(w.__dict__)
        for w in await channel_status.fidelity_warnings(session, c)
    ]
    return out


@router.post(
    "/channel-connections",
    status_code=status.HTTP_201_CREATED,
    response_model=Connection,
    summary="Connect a platform account (OAuth code or credentials; stored encrypted)",
    responses={**_502, 409: {"description": "Refused or already connected"}},
)
async def create_connection(
    body: ConnectionCreate, session: DB, actor: ChannelsManage, settings: AppSettings
) -> Connection:
    c = await connections.create(
        session,
        actor,
        settings,
        platform=body.platform,
        name=body.name,
        authorization_code=body.authorization_code,
        credentials=body.credentials,
    )
    return await _connection(session, c)


@router.get("/channel-connections", response_model=Page[Connection], summary="List connections")
async def list_connections(
    session: DB, actor: ChannelsRead, paging: Annotated[PageParams, Depends(page_params)]
) -> Page[Connection]:
    items, total = await connections.list_(session, actor, paging.limit, paging.offset)
    return Page[Connection](
        items=[await _connection(session, c) for c in items],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )


@router.get(
    "/channel-connections/{connection_id}",
    response_model=Connection,
    summary="A connection with its status, lag, pending ranges and last error",
    responses=_404,
)
async def get_connection(connection_id: uuid.UUID, session: DB, actor: ChannelsRead) -> Connection:
    return await _connection(session, await connections.get(session, actor, connection_id))


@router.patch(
    "/channel-connections/{connection_id}",
    response_model=Connection,
    summary="Pause or resume a connection",
    responses=_404,
)
async def update_connection(
    connection_id: uuid.UUID, body: ConnectionUpdate, session: DB, actor: ChannelsManage
) -> Connection:
    c = await connections.set_status(session, actor, connection_id, ConnectionStatus(body.status))
    if c.status == ConnectionStatus.ACTIVE:
        await mappings_resume(session, actor, c)
    return await _connection(session, c)


async def mappings_resume(session: DB, actor: Actor, c: ChannelConnection) -> None:
    """Resuming asks for a flush of every mapping that still has changes pending."""
    for m in await mappings.list_for_connection(session, actor, c.id):
        current = await dirty.read(session, m.id)
        if current is not None:
            await dirty.request_sync(session, m.agency_id, [m.id], current.start, current.end)


@router.delete(
    "/channel-connections/{connection_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Disconnect (the platform keeps what it shows)",
    responses=_404,
)
async def delete_connection(
    connection_id: uuid.UUID, session: DB, actor: ChannelsManage
) -> Response:
    await connections.delete(session, actor, connection_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/channel-connections/{connection_id}/test",
    response_model=ConnectionTest,
    summary="Check the stored credentials against the platform (refused → revoked)",
    responses=_404,
)
async def test_connection(
    connection_id: uuid.UUID, session: DB, actor: ChannelsManage, settings: AppSettings
) -> ConnectionTest:
    ok, detail = await connections.test(session, actor, settings, connection_id)
    c = await connections.get(session, actor, connection_id)
    return ConnectionTest(ok=ok, status=c.status, detail=detail)


@router.get(
    "/channel-connections/{connection_id}/remote-listings",
    response_model=list[RemoteListing],
    summary="The platform's listings, each with its mapping if any",
    responses={**_404, **_502},
)
async def remote_listings(
    connection_id: uuid.UUID, session: DB, actor: ChannelsRead, settings: AppSettings
) -> list[RemoteListing]:
    found = await connections.remote_listings(session, actor, settings, connection_id)
    return [
        RemoteListing(
            id=x.id,
            currency=x.currency,
            name=x.name,
            mapping_id=m.id if m else None,
            property_id=m.property_id if m else None,
        )
        for x, m in found
    ]


async def _mapping(session: DB, m: ChannelMapping) -> Mapping:
    c = await session.get(ChannelConnection, m.connection_id)
    assert c is not None
    _, per = await channel_status.connection_health(session, c)
    out = Mapping.model_validate(m)
    h = per.get(m.id)
    out.health = ListingHealth(
        lag_seconds=h.lag_seconds if h else None,
        pending_ranges=h.pending_ranges if h else [],
        breaker=(h.breaker if h else "closed"),
    )
    return out


@router.get(
    "/channel-connections/{connection_id}/mappings",
    response_model=list[Mapping],
    summary="The connection's mapped listings with their status and lag",
    responses=_404,
)
async def list_mappings(
    connection_id: uuid.UUID, session: DB, actor: ChannelsRead
) -> list[Mapping]:
    return [
        await _mapping(session, m)
        for m in await mappings.list_for_connection(session, actor, connection_id)
    ]


@router.post(
    "/channel-connections/{connection_id}/mappings",
    status_code=status.HTTP_201_CREATED,
    response_model=Mapping,
    summary="Map a platform listing to a property (runs a full sync of the window)",
    responses={**_404, 409: {"description": "The listing is already mapped"}},
)
async def create_mapping(
    connection_id: uuid.UUID,
    body: MappingCreate,
    session: DB,
    actor: ChannelsManage,
    settings: AppSettings,
) -> Mapping:
    m = await mappings.create(
        session,
        actor,
        settings,
        connection_id,
        mappings.MappingInput(**body.model_dump()),
    )
    return await _mapping(session, m)


@router.patch(
    "/channel-mappings/{mapping_id}",
    response_model=Mapping,
    summary="Change markup, plan or what to sync (followed by a full sync)",
    responses=_404,
)
async def update_mapping(
    mapping_id: uuid.UUID,
    body: MappingUpdate,
    session: DB,
    actor: ChannelsManage,
    settings: AppSettings,
) -> Mapping:
    m = await mappings.update(
        session, actor, settings, mapping_id, body.model_dump(exclude_unset=True)
    )
    return await _mapping(session, m)


@router.delete(
    "/channel-mappings/{mapping_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unmap: stop syncing and leave the platform as it is",
    responses=_404,
)
async def delete_mapping(mapping_id: uuid.UUID, session: DB, actor: ChannelsManage) -> Response:
    await mappings.unmap(session, actor, mapping_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/channel-connections/{connection_id}/sync-log",
    response_model=list[SyncLogEntry],
    summary="Each push, pull and reconciliation, newest first",
    responses=_404,
)
async def sync_log(
    connection_id: uuid.UUID,
    session: DB,
    actor: ChannelsRead,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> list[SyncLogEntry]:
    rows = await synclog.list_(session, actor, connection_id, limit=limit, before_id=before_id)
    return [SyncLogEntry.model_validate(r) for r in rows]


@router.get(
    "/channel-connections/{connection_id}/sync-log/{entry_id}",
    response_model=SyncLogEntry,
    summary="One sync log entry (e.g. a queued reconciliation, to follow it)",
    responses=_404,
)
async def sync_log_entry(
    connection_id: uuid.UUID, entry_id: int, session: DB, actor: ChannelsRead
) -> SyncLogEntry:
    return SyncLogEntry.model_validate(await synclog.get(session, actor, connection_id, entry_id))


@router.get(
    "/channel-connections/{connection_id}/dead-letters",
    response_model=list[DeadLetter],
    summary="Changes that failed every try",
    responses=_404,
)
async def list_dead_letters(
    connection_id: uuid.UUID, session: DB, actor: ChannelsRead, open_only: bool = True
) -> list[DeadLetter]:
    rows = await deadletters.list_(session, actor, connection_id, open_only=open_only)
    return [DeadLetter.model_validate(r) for r in rows]


@router.post(
    "/channel-connections/{connection_id}/dead-letters/{dead_letter_id}/retry",
    response_model=DeadLetter,
    summary="Push the dead letter's range again (with the state as it is now)",
    responses=_404,
)
async def retry_dead_letter(
    connection_id: uuid.UUID, dead_letter_id: uuid.UUID, session: DB, actor: ChannelsManage
) -> DeadLetter:
    return DeadLetter.model_validate(
        await deadletters.retry(session, actor, connection_id, dead_letter_id)
    )


@router.post(
    "/channel-connections/{connection_id}/reconcile",
    response_model=ReconcileQueued,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a read-back of the platform's window, compared with Core, differences pushed",
    description="Answers at once with the sync log entry that reports the run: `queued`, then "
    "`running`, then its outcome with the mismatches found in `details`.",
    responses=_404,
)
async def reconcile_connection(
    connection_id: uuid.UUID, session: DB, actor: ChannelsManage, response: Response
) -> ReconcileQueued:
    row = await reconcile.request(session, actor, connection_id)
    location = f"/api/v1/channel-connections/{row.connection_id}/sync-log/{row.id}"
    response.headers["Location"] = location
    return ReconcileQueued(sync_log_id=row.id, outcome=row.outcome, location=location)


@router.get(
    "/channel-conflicts",
    response_model=Page[ChannelConflict],
    summary="Open channel conflicts (platform bookings that collided with a stay)",
)
async def list_conflicts(
    session: DB, actor: BookingsRead, paging: Annotated[PageParams, Depends(page_params)]
) -> Page[ChannelConflict]:
    items, total = await conflicts.list_open(session, actor, paging.limit, paging.offset)
    return Page[ChannelConflict].of(items, total, paging)


@router.post(
    "/channel-conflicts/{conflict_id}/resolve",
    response_model=ChannelConflict,
    summary="Resolve a conflict: move, cancel on our side, or accept as overbooked",
    responses={**_404, 409: {"description": "Already resolved, or the new dates are taken"}},
)
async def resolve_conflict(
    conflict_id: uuid.UUID,
    body: ConflictResolve,
    session: DB,
    actor: ChannelsManage,
) -> ChannelConflict:
    c = await conflicts.resolve(
        session,
        actor,
        conflict_id,
        body.action,
        property_id=body.property_id,
        check_in=body.check_in,
        check_out=body.check_out,
    )
    return ChannelConflict.model_validate(c)


@router.get(
    "/properties/{property_id}/channel-days",
    response_model=list[ChannelDay],
    summary="What each platform should show per night, why, and when it was last pushed",
    responses=_404,
)
async def channel_days(
    property_id: uuid.UUID,
    window: Annotated[DateWindow, Query()],
    session: DB,
    actor: ChannelsRead,
) -> list[ChannelDay]:
    days = await channel_status.channel_days(session, actor, property_id, window.start, window.end)
    return [ChannelDay.model_validate(d) for d in days]


@webhook_router.post(
    "/channels/{platform}/webhooks",
    response_model=WebhookReceipt,
    summary="Receive a platform's webhook (signed); stored once, applied by a worker",
    responses={400: {"description": "Missing, forged, stale or replayed signature"}},
)
async def receive_webhook(platform: str, request: Request) -> Response:
    # The platforms' hottest route: the settings read directly, not through a dependency.
    settings = get_settings()
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        receipt = await inbox.receive(platform, headers, body, settings)
    except InvalidWebhook as exc:
        raise WebhookRefused(f"Webhook refused: {exc}.") from None
    answer = WebhookReceipt(received=True, message_id=receipt.message_id, outcome=receipt.outcome)
    # Built by the model itself rather than validated again against the response model.
    return Response(answer.model_dump_json(), media_type="application/json")
