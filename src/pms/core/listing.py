"""One sorting and paging convention for every collection query."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from pms.core.errors import Unprocessable

T = TypeVar("T")
SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])
Sortable: TypeAlias = ColumnElement[Any] | InstrumentedAttribute[Any]


def order_by(stmt: SelectT, sort: str, columns: Mapping[str, Sortable]) -> SelectT:
    """``sort``: comma-separated column names, each optionally prefixed with ``-`` (descending)."""
    clauses = []
    for part in filter(None, (p.strip() for p in sort.split(","))):
        desc = part.startswith("-")
        name = part.lstrip("-")
        col = columns.get(name)
        if col is None:
            raise Unprocessable(
                f"Cannot sort by {name!r}; use one of: {', '.join(sorted(columns))}.",
                errors=[{"field": "sort", "in": "query", "message": f"unknown field {name!r}"}],
            )
        clauses.append(col.desc() if desc else col.asc())
    return stmt.order_by(*clauses)


async def page(
    session: AsyncSession, stmt: Select[Any], limit: int, offset: int
) -> tuple[list[Any], int]:
    total = (
        await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))
    ).scalar_one()
    rows = (await session.execute(stmt.limit(limit).offset(offset))).scalars().all()
    return list(rows), int(total)


def escape_like(value: str) -> str:
    """User text inside a LIKE pattern matches literally (use with ``escape="\\"``)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
