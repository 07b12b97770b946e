"""Transactions of system jobs that work across agencies (the e-mail sender, payment webhooks)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pms.db import transaction


async def declare_system_job(session: AsyncSession) -> None:
    """Row-level security lets this transaction (only) see tables created with
    ``system_access=True`` for every agency; the setting ends with the transaction."""
    await session.execute(text("SELECT set_config('app.system', 'on', true)"))


@asynccontextmanager
async def system_transaction() -> AsyncIterator[AsyncSession]:
    async with transaction() as session:
        await declare_system_job(session)
        yield session
