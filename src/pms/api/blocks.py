"""Blocks: owner stays, maintenance, manual closures, iCal imports."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from pms.api.deps import DB, AgencyMember, BookingsRead
from pms.api.idempotency import IdempotentRoute
from pms.api.responses import Responses
from pms.core import blocks
from pms.schemas.booking import Block, BlockCreate
from pms.schemas.common import Page, PageParams, page_params

router = APIRouter(route_class=IdempotentRoute, prefix="/blocks", tags=["blocks"])
_404: Responses = {404: {"description": "No such block in this agency"}}


@router.get("", response_model=Page[Block], summary="List blocks")
async def list_blocks(
    session: DB,
    actor: BookingsRead,
    paging: Annotated[PageParams, Depends(page_params)],
    property_id: uuid.UUID | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Page[Block]:
    items, total = await blocks.list_(
        session,
        actor,
        property_id=property_id,
        start=start,
        end=end,
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page[Block].of(items, total, paging)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Block,
    summary="Block dates (owners: owner blocks on their own properties)",
    responses={409: {"description": "Dates taken (`conflict_type`, `clash`)"}},
)
async def create_block(body: BlockCreate, session: DB, actor: AgencyMember) -> Block:
    return Block.model_validate(await blocks.create(session, actor, body))


@router.delete(
    "/{block_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a block",
    responses=_404,
)
async def delete_block(block_id: uuid.UUID, session: DB, actor: AgencyMember) -> Response:
    await blocks.delete(session, actor, block_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
