"""Migrations go up, down to nothing, and up again cleanly; the app role cannot bypass RLS."""

from __future__ import annotations

import asyncio

import asyncpg

from pms import migrate
from tests.services import PgCluster, plain


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(plain(url))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


async def test_up_down_up(pg_cluster: PgCluster) -> None:
    url = await pg_cluster.create_db()
    try:
        head_tables = await _tables(url)
        assert "outbox_events" in head_tables
        await asyncio.to_thread(migrate.downgrade, url, "base")
        assert await _tables(url) == {"alembic_version"}
        await asyncio.to_thread(migrate.upgrade, url, "head")
        assert await _tables(url) == head_tables
    finally:
        await pg_cluster.drop_db(url)


async def test_app_role_has_no_bypassrls_and_btree_gist_is_enabled(database_url: str) -> None:
    conn = await asyncpg.connect(plain(database_url), server_settings={"role": "pms_app"})
    try:
        row = await conn.fetchrow(
            "SELECT current_user AS u, rolbypassrls, rolsuper FROM pg_roles "
            "WHERE rolname = current_user"
        )
        assert row is not None
        assert row["u"] == "pms_app"
        assert row["rolbypassrls"] is False
        assert row["rolsuper"] is False
        ext = await conn.fetchval("SELECT 1 FROM pg_extension WHERE extname = 'btree_gist'")
        assert ext == 1
    finally:
        await conn.close()


async def test_the_engine_runs_as_the_app_role(settings: object) -> None:
    from sqlalchemy import text

    from pms.db import get_engine

    async with get_engine().connect() as conn:
        assert (await conn.execute(text("SELECT current_user"))).scalar() == "pms_app"
