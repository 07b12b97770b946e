"""Alerts: problems a person should look at (broken or stale feeds, conflicting stays)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from pms.api.deps import DB, ChannelsManage, ChannelsRead
from pms.api.idempotency import IdempotentRoute
from pms.core import alerts
from pms.schemas.common import Page, PageParams, page_params
from pms.schemas.ical import Alert

router = APIRouter(route_class=IdempotentRoute, prefix="/alerts", tags=["alerts"])


@router.get("", response_model=Page[Alert], summary="List alerts, newest first")
async def list_alerts(
    session: DB,
    actor: ChannelsRead,
    paging: Annotated[PageParams, Depends(page_params)],
    open_only: bool = True,
    kind: str | None = None,
) -> Page[Alert]:
    items, total = await alerts.list_(
        session, actor, open_only=open_only, kind=kind, limit=paging.limit, offset=paging.offset
    )
    return Page[Alert].of(items, total, paging)


@router.post(
    "/{alert_id}/resolve",
    response_model=Alert,
    summary="Mark an alert as dealt with",
    responses={404: {"description": "No such alert in this agency"}},
)
async def resolve_alert(alert_id: uuid.UUID, session: DB, actor: ChannelsManage) -> Alert:
    return Alert.model_validate(await alerts.resolve(session, actor, alert_id))
