"""Migrations go up, down to nothing, and up again cleanly; the app role cannot bypass RLS; the
revisions import no live code, and what they wrote out still agrees with the code."""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import asyncpg

from pms import migrate
from pms.core.booking_status import BLOCK_MARKER, INVENTORY_ACTIVE, OCCUPYING
from pms.models.inventory import EXCLUSION_CONSTRAINT
from pms.models.rates import SEASONS_EXCLUSION
from tests.services import REPO, PgCluster, plain


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


MIGRATIONS = REPO / "migrations"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
            names.update(a.value for a in node.args[:1] if isinstance(a, ast.Constant))
    return names


def test_no_migration_imports_live_code() -> None:
    """A revision must build tomorrow what it built when written: no ``pms`` import, in the
    revisions or in the frozen helpers beside them (env.py alone may read the settings)."""
    files = [*sorted((MIGRATIONS / "versions").glob("*.py")), MIGRATIONS / "rls_policies.py"]
    assert len(files) > 5
    offenders = {
        f"{f.relative_to(REPO)}: {m}"
        for f in files
        for m in _imported_modules(f)
        if m == "pms" or m.startswith("pms.")
    }
    assert offenders == set()


def test_the_import_check_sees_every_form_of_import(tmp_path: Path) -> None:
    sample = tmp_path / "0099_sample.py"
    sample.write_text(
        "import pms.models\nfrom pms.core import booking_status\nx = __import__('pms.db')\n"
    )
    assert {"pms.models", "pms.core", "pms.db"} <= _imported_modules(sample)


def _revision(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, MIGRATIONS / "versions" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(MIGRATIONS))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(MIGRATIONS))
    return module


def test_constants_written_out_in_migrations_match_the_code() -> None:
    bookings = _revision("0003_bookings")
    assert set(bookings.ACTIVE) == {s.value for s in OCCUPYING} | {BLOCK_MARKER}
    assert set(bookings.ACTIVE) == set(INVENTORY_ACTIVE)
    assert bookings.BLOCK_MARKER == BLOCK_MARKER
    assert bookings.EXCLUSION_CONSTRAINT == EXCLUSION_CONSTRAINT
    assert _revision("0004_rates").SEASONS_EXCLUSION == SEASONS_EXCLUSION
    # 0008's reference default is history (0013 numbers references per agency by a trigger),
    # so it is pinned to what it was, not compared with live code.
    assert "nextval('booking_reference_seq')" in _revision("0008_direct").REFERENCE_DEFAULT


async def test_the_database_holds_what_the_code_expects(database_url: str) -> None:
    """The built schema, not only the files: the exclusion constraint covers exactly the
    occupying statuses and blocks, and bookings get their per-agency reference from a trigger."""
    conn = await asyncpg.connect(plain(database_url))
    try:
        definition = await conn.fetchval(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = $1",
            EXCLUSION_CONSTRAINT,
        )
        seasons = await conn.fetchval(
            "SELECT 1 FROM pg_constraint WHERE conname = $1", SEASONS_EXCLUSION
        )
        reference_trigger = await conn.fetchval(
            "SELECT 1 FROM pg_trigger WHERE tgname = 'bookings_reference' AND NOT tgisinternal"
        )
        role_default = await conn.fetchval(
            "SELECT 1 FROM pg_roles WHERE rolname = 'pms_app' AND NOT rolbypassrls"
        )
    finally:
        await conn.close()
    assert set(re.findall(r"'([a-z_]+)'::", definition)) == set(INVENTORY_ACTIVE)
    assert seasons == 1
    assert reference_trigger == 1
    assert role_default == 1
