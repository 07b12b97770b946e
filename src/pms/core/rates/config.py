"""The agency's pricing configuration rows (tax classes, fees, visitor taxes, cancellation
policies): read, create, change and delete with an audit row each."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import audit
from pms.core.errors import NotFound
from pms.core.rates.writes import (
    M,
    flush,
    set_values,
)
from pms.core.tenancy import Actor
from pms.models.base import Base


async def get_config(
    session: AsyncSession, actor: Actor, model: type[M], object_id: uuid.UUID, what: str
) -> M:
    row = (
        await session.execute(
            select(model).where(
                model.id == object_id,  # type: ignore[attr-defined]
                model.agency_id == actor.require_agency(),  # type: ignore[attr-defined]
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"{what.capitalize()} not found.")
    return row


async def list_config(session: AsyncSession, actor: Actor, model: type[M], order: Any) -> list[M]:
    rows = await session.execute(
        select(model)
        .where(model.agency_id == actor.require_agency())  # type: ignore[attr-defined]
        .order_by(order, model.id)  # type: ignore[attr-defined]
    )
    return list(rows.scalars().all())


async def _record(
    session: AsyncSession, actor: Actor, row: Any, entity: str, action: str, before: Any = None
) -> None:
    await audit.record(
        session,
        actor,
        agency_id=row.agency_id,
        entity_type=entity,
        entity_id=row.id,
        action=action,
        before=before,
        after=audit.snapshot(row) if action != "deleted" else None,
    )


async def create_config(session: AsyncSession, actor: Actor, row: M, entity: str, what: str) -> M:
    await flush(session, what, lambda: session.add(row))
    await session.refresh(row)
    await _record(session, actor, row, entity, "created")
    return row


async def update_config(
    session: AsyncSession,
    actor: Actor,
    row: M,
    changes: dict[str, Any],
    entity: str,
    what: str,
) -> M:
    before = audit.snapshot(row)
    await flush(session, what, lambda: set_values(row, changes))
    await session.refresh(row)
    await _record(session, actor, row, entity, "updated", before)
    return row


async def delete_config(
    session: AsyncSession, actor: Actor, row: Base, entity: str, what: str
) -> None:
    before = audit.snapshot(row)
    await flush(session, what, lambda: session.delete(row))
    await _record(session, actor, row, entity, "deleted", before)
