"""The agency's audit log (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from pms.api.deps import DB, AuditRead
from pms.api.idempotency import IdempotentRoute
from pms.core import listing
from pms.models.audit import AuditEntry as AuditRow
from pms.schemas.auth import AuditEntry
from pms.schemas.common import Page, PageParams, page_params

router = APIRouter(route_class=IdempotentRoute, tags=["audit"])


@router.get("/audit-log", response_model=Page[AuditEntry], summary="Every change, newest first")
async def audit_log(
    session: DB,
    actor: AuditRead,
    paging: Annotated[PageParams, Depends(page_params)],
    entity_type: Annotated[str | None, Query(max_length=50)] = None,
    entity_id: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[AuditEntry]:
    stmt = select(AuditRow).where(AuditRow.agency_id == actor.require_agency())
    if entity_type:
        stmt = stmt.where(AuditRow.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditRow.entity_id == entity_id)
    items, total = await listing.page(
        session, stmt.order_by(AuditRow.id.desc()), paging.limit, paging.offset
    )
    return Page[AuditEntry].of(items, total, paging)
