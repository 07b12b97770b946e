"""Agencies: reading the current one."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pms.core.errors import NotFound
from pms.core.tenancy import Actor
from pms.models.agency import Agency


async def current(session: AsyncSession, actor: Actor) -> Agency:
    agency = await session.get(Agency, actor.require_agency())
    if agency is None:
        raise NotFound("Agency not found.")
    return agency
