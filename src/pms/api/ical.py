"""iCal sync: secret export URLs (public feed), import feeds with health, sync now, conflicts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Header, Query, Request, Response, status

from pms.api.deps import DB, AppSettings, ChannelsManage, ChannelsRead
from pms.api.idempotency import IdempotentRoute
from pms.api.responses import Responses
from pms.channel.ical import exports, feeds, sync
from pms.channel.ical.render import not_modified
from pms.core.errors import NotFound
from pms.models.ical import FeedSource, IcalExport, IcalFeed
from pms.schemas.common import Page, PageParams, page_params
from pms.schemas.ical import (
    Conflict,
    Export,
    ExportCreate,
    ExportIssued,
    Feed,
    FeedCreate,
    FeedHealth,
    NightSpan,
    SyncResult,
)
from pms.settings import Settings

router = APIRouter(route_class=IdempotentRoute, tags=["ical"])
public = APIRouter(route_class=IdempotentRoute, tags=["ical"])
_404: Responses = {404: {"description": "No such property, export or feed in this agency"}}


def _issued(settings: Settings, export: IcalExport, token: str) -> ExportIssued:
    url = settings.public_base_url.rstrip("/") + exports.feed_path(token)
    return ExportIssued.model_validate({**Export.model_validate(export).model_dump(), "url": url})


def _feed(feed: IcalFeed, open_conflicts: int) -> Feed:
    now = datetime.now(UTC)
    return Feed(
        id=feed.id,
        property_id=feed.property_id,
        name=feed.name,
        source=FeedSource(feed.source),
        url=feed.url_redacted,
        poll_interval_seconds=feed.poll_interval_seconds,
        created_at=feed.created_at,
        health=FeedHealth.model_validate(feeds.health(feed, open_conflicts, now)),
    )


# --- export ----------------------------------------------------------------------------------


@router.get(
    "/properties/{property_id}/ical-exports",
    response_model=list[Export],
    summary="List a property's live export URLs (tokens are not shown again)",
    responses=_404,
)
async def list_exports(property_id: uuid.UUID, session: DB, actor: ChannelsRead) -> list[Export]:
    return [Export.model_validate(e) for e in await exports.list_(session, actor, property_id)]


@router.post(
    "/properties/{property_id}/ical-exports",
    status_code=status.HTTP_201_CREATED,
    response_model=ExportIssued,
    summary="Create a secret export URL to paste into Airbnb, Booking.com or Vrbo",
    responses=_404,
)
async def create_export(
    property_id: uuid.UUID,
    body: ExportCreate,
    session: DB,
    actor: ChannelsManage,
    settings: AppSettings,
) -> ExportIssued:
    issued = await exports.create(
        session,
        actor,
        property_id,
        exclude_source=body.exclude_source.value if body.exclude_source else None,
        include_holds=body.include_holds,
    )
    return _issued(settings, issued.export, issued.token)


@router.post(
    "/properties/{property_id}/ical-exports/{export_id}/rotate",
    response_model=ExportIssued,
    summary="Replace an export's token; the old URL stops working at once",
    responses=_404,
)
async def rotate_export(
    property_id: uuid.UUID,
    export_id: uuid.UUID,
    session: DB,
    actor: ChannelsManage,
    settings: AppSettings,
) -> ExportIssued:
    issued = await exports.rotate(session, actor, property_id, export_id)
    return _issued(settings, issued.export, issued.token)


@router.delete(
    "/properties/{property_id}/ical-exports/{export_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an export URL",
    responses=_404,
)
async def revoke_export(
    property_id: uuid.UUID, export_id: uuid.UUID, session: DB, actor: ChannelsManage
) -> Response:
    await exports.revoke(session, actor, property_id, export_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@public.head("/ical/{token}.ics", include_in_schema=False)
@public.get(
    "/ical/{token}.ics",
    summary="A property's calendar as iCal (secret URL, no login)",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "The feed"},
        304: {"description": "Unchanged since the ETag or date you sent"},
        404: {"description": "Unknown or revoked URL"},
    },
)
async def ical_feed(
    token: str,
    request: Request,
    session: DB,
    settings: AppSettings,
    if_none_match: Annotated[str | None, Header()] = None,
    if_modified_since: Annotated[str | None, Header()] = None,
) -> Response:
    domain = httpx.URL(settings.public_base_url).host or "pms-webapp.local"
    now = datetime.now(UTC)
    rendered = await exports.render_for_token(session, token, domain=domain, now=now)
    if rendered is None:
        raise NotFound("No calendar at this address.")
    headers = {"ETag": rendered.etag, "Cache-Control": "private, max-age=0, must-revalidate"}
    # HTTP dates have whole seconds: a Last-Modified in the current second could be followed by
    # another change in that same second, which If-Modified-Since would then miss. So it is only
    # sent once its second is over (clients still have the ETag meanwhile).
    closed = rendered.last_modified is not None and rendered.last_modified < now.replace(
        microsecond=0
    )
    if rendered.last_modified_header and closed:
        headers["Last-Modified"] = rendered.last_modified_header
    if not_modified(rendered, if_none_match=if_none_match, if_modified_since=if_modified_since):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    body = b"" if request.method == "HEAD" else rendered.body
    headers["Content-Length"] = str(len(rendered.body))
    return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)


# --- import ----------------------------------------------------------------------------------


@router.post(
    "/properties/{property_id}/ical-feeds",
    status_code=status.HTTP_201_CREATED,
    response_model=Feed,
    summary="Import a platform's iCal feed into this property (first sync within a minute)",
    responses={**_404, 409: {"description": "This property already imports that URL"}},
)
async def create_feed(
    property_id: uuid.UUID,
    body: FeedCreate,
    session: DB,
    actor: ChannelsManage,
    settings: AppSettings,
) -> Feed:
    feed = await feeds.create(
        session,
        actor,
        settings,
        property_id,
        url=body.url,
        name=body.name,
        source=body.source.value,
        poll_interval_seconds=body.poll_interval_seconds,
    )
    return _feed(feed, 0)


@router.get("/ical-feeds", response_model=Page[Feed], summary="List import feeds with health")
async def list_feeds(
    session: DB,
    actor: ChannelsRead,
    paging: Annotated[PageParams, Depends(page_params)],
    property_id: uuid.UUID | None = None,
) -> Page[Feed]:
    items, total = await feeds.list_(
        session, actor, property_id=property_id, limit=paging.limit, offset=paging.offset
    )
    counts = await feeds.open_conflicts(session, [f.id for f in items])
    return Page[Feed](
        items=[_feed(f, counts.get(f.id, 0)) for f in items],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )


@router.get(
    "/ical-feeds/{feed_id}", response_model=Feed, summary="One feed with health", responses=_404
)
async def get_feed(feed_id: uuid.UUID, session: DB, actor: ChannelsRead) -> Feed:
    feed = await feeds.get(session, actor, feed_id)
    counts = await feeds.open_conflicts(session, [feed.id])
    return _feed(feed, counts.get(feed.id, 0))


@router.delete(
    "/ical-feeds/{feed_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop importing a feed and free the nights it blocked",
    responses=_404,
)
async def delete_feed(feed_id: uuid.UUID, session: DB, actor: ChannelsManage) -> Response:
    await feeds.delete(session, actor, feed_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/ical-feeds/{feed_id}/sync",
    response_model=SyncResult,
    summary="Sync a feed now (fetch, reconcile, apply) and report what changed",
    responses=_404,
)
async def sync_now(
    feed_id: uuid.UUID,
    session: DB,
    actor: ChannelsManage,
    settings: AppSettings,
    accept_empty: Annotated[
        bool,
        Query(
            description="You checked that the feed really has no stays any more (e.g. the "
            "listing was closed): apply an empty feed instead of holding its nights."
        ),
    ] = False,
) -> SyncResult:
    await feeds.get(session, actor, feed_id)  # visible to this actor, or 404
    # The sync commits in its own transactions (the fetch happens outside any); this request's
    # transaction, read-committed, then sees the result.
    report = await sync.sync_feed(feed_id, settings, actor=actor, accept_empty=accept_empty)
    if report is None:
        raise NotFound("Feed not found.")
    session.expire_all()
    feed = await feeds.get(session, actor, feed_id)
    counts = await feeds.open_conflicts(session, [feed.id])
    return SyncResult(
        outcome=report.outcome,
        held=report.held,
        added=[NightSpan(start=r.start, end=r.end) for r in report.added],
        removed=[NightSpan(start=r.start, end=r.end) for r in report.removed],
        conflicts=report.conflicts,
        alerts=report.alerts,
        feed=_feed(feed, counts.get(feed.id, 0)),
    )


@router.get(
    "/ical-feeds/{feed_id}/conflicts",
    response_model=list[Conflict],
    summary="Feed ranges that collide with stays we already have",
    responses=_404,
)
async def list_conflicts(
    feed_id: uuid.UUID, session: DB, actor: ChannelsRead, open_only: bool = True
) -> list[Conflict]:
    rows = await feeds.conflicts(session, actor, feed_id, open_only=open_only)
    return [Conflict.model_validate(c) for c in rows]
