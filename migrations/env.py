"""Alembic environment: runs migrations as the database owner over asyncpg."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from pms.db import async_url
from pms.models import Base
from pms.settings import get_settings

config = context.config
# The revisions read the role from here, not from pms.settings (they import no live code).
config.attributes.setdefault("db_app_role", get_settings().db_app_role)
target_metadata = Base.metadata


def _url() -> str:
    explicit = config.attributes.get("url")
    if isinstance(explicit, str):
        return explicit
    s = get_settings()
    return s.database_admin_url or s.require_database_url()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(async_url(_url()))
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
