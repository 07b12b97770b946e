"""Agencies: reading the current one."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import audit
from pms.core.errors import NotFound
from pms.core.tenancy import Actor
from pms.models.agency import Agency


async def current(session: AsyncSession, actor: Actor) -> Agency:
    agency = await session.get(Agency, actor.require_agency())
    if agency is None:
        raise NotFound("Agency not found.")
    return agency


async def update(session: AsyncSession, actor: Actor, changes: dict[str, Any]) -> Agency:
    agency = await current(session, actor)
    before = audit.snapshot(agency)
    for key, value in changes.items():
        if value is not None:
            setattr(agency, key, value)
    await session.flush()
    await audit.record(
        session,
        actor,
        agency_id=agency.id,
        entity_type="agency",
        entity_id=agency.id,
        action="updated",
        before=before,
        after=audit.snapshot(agency),
    )
    return agency
