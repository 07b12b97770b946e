"""Transactions of system jobs that work across agencies (the e-mail sender, payment webhooks)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from pms.db import system_access, transaction


async def declare_system_job(session: AsyncSession) -> None:
    """Row-level security lets this transaction (only) see tables created with
    ``system_access=True`` for every agency; the setting ends with the transaction."""
    await system_access(session)


@asynccontextmanager
async def system_transaction() -> AsyncIterator[AsyncSession]:
    async with transaction() as session:
        await declare_system_job(session)
        yield session
