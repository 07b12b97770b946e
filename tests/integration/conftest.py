"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from pms.core import availability
from tests.services import plain


@pytest.fixture
async def admin(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to the test's database: sees every agency's rows (no RLS)."""
    conn = await asyncpg.connect(plain(database_url))
    yield conn
    await conn.close()


@pytest.fixture
def calendar_statements_built_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """The calendar builds its statements once, at import (``availability._VISIBLE`` and
    ``_RANGES``). A test that uses this fixture gets them built again for it, so it runs the
    statement-building code itself, not what the import left: mutmut imports the sources once
    and forks every mutant's run from that process, where a mutant of the builders would
    otherwise never reach the SQL."""
    monkeypatch.setattr(
        availability,
        "_VISIBLE",
        {
            (owner, named): availability._visible_statement(owner=owner, named=named)
            for owner in (False, True)
            for named in (False, True)
        },
    )
    monkeypatch.setattr(
        availability,
        "_RANGES",
        {names: availability._ranges_statement(names=names) for names in (False, True)},
    )
