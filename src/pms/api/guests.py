"""Guests, with GDPR export and erasure."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import EmailStr

from pms.api.deps import DB, GuestsExportErase, GuestsRead, GuestsWrite
from pms.api.idempotency import IdempotentRoute
from pms.api.responses import Responses
from pms.core import guests
from pms.schemas.common import Page, PageParams, page_params
from pms.schemas.guest import Guest, GuestCreate, GuestExport, GuestUpdate

router = APIRouter(route_class=IdempotentRoute, prefix="/guests", tags=["guests"])
_404: Responses = {404: {"description": "No such guest in this agency"}}
_409: Responses = {409: {"description": "E-mail already used by another guest of this agency"}}


@router.get("", response_model=Page[Guest], summary="List and search guests")
async def list_guests(
    session: DB,
    actor: GuestsRead,
    paging: Annotated[PageParams, Depends(page_params)],
    q: Annotated[str | None, Query(max_length=200, description="Name or e-mail contains")] = None,
    email: EmailStr | None = None,
    sort: Annotated[str, Query(max_length=100)] = "last_name",
) -> Page[Guest]:
    items, total = await guests.list_(
        session, actor, q=q, email=email, sort=sort, limit=paging.limit, offset=paging.offset
    )
    return Page[Guest].of(items, total, paging)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Guest,
    summary="Create a guest",
    responses=_409,
)
async def create_guest(body: GuestCreate, session: DB, actor: GuestsWrite) -> Guest:
    return Guest.model_validate(await guests.create(session, actor, body))


@router.get("/{guest_id}", response_model=Guest, summary="Get a guest", responses=_404)
async def get_guest(guest_id: uuid.UUID, session: DB, actor: GuestsRead) -> Guest:
    return Guest.model_validate(await guests.get(session, actor, guest_id))


@router.patch(
    "/{guest_id}", response_model=Guest, summary="Change a guest", responses={**_404, **_409}
)
async def update_guest(
    guest_id: uuid.UUID, body: GuestUpdate, session: DB, actor: GuestsWrite
) -> Guest:
    return Guest.model_validate(await guests.update(session, actor, guest_id, body))


@router.get(
    "/{guest_id}/export",
    response_model=GuestExport,
    summary="GDPR: everything held about a guest, as JSON",
    responses=_404,
)
async def export_guest(guest_id: uuid.UUID, session: DB, actor: GuestsExportErase) -> GuestExport:
    guest, related = await guests.export(session, actor, guest_id)
    return GuestExport(
        guest=Guest.model_validate(guest), related=related, exported_at=datetime.now(UTC)
    )


@router.post(
    "/{guest_id}/erase",
    response_model=Guest,
    summary="GDPR: anonymise a guest (bookings stay for accounting)",
    responses=_404,
)
async def erase_guest(guest_id: uuid.UUID, session: DB, actor: GuestsExportErase) -> Guest:
    return Guest.model_validate(await guests.erase(session, actor, guest_id))
