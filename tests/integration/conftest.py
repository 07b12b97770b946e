"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.services import plain


@pytest.fixture
async def admin(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to the test's database: sees every agency's rows (no RLS)."""
    conn = await asyncpg.connect(plain(database_url))
    yield conn
    await conn.close()
