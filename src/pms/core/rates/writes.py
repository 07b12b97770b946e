"""Writes of rate and pricing rows: constraint violations become 409s that say what is in use or
taken, and values are checked as the API sends them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from inspect import isawaitable
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core.errors import Conflict, Unprocessable
from pms.models.base import Base

M = TypeVar("M", bound=Base)

FOREIGN_KEY_VIOLATION = "23503"
RESTRICT_VIOLATION = "23001"  # ON DELETE RESTRICT
UNIQUE_VIOLATION = "23505"


def sqlstate(exc: IntegrityError) -> str | None:
    return getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)


async def flush(session: AsyncSession, what: str, change: Callable[[], Any]) -> None:
    """Make `change` and flush it in a savepoint; a unique or foreign-key violation becomes a
    409 and leaves the transaction usable (never a 500, and never an aborted transaction). The
    change must happen inside: opening the savepoint flushes whatever is pending outside it."""
    try:
        async with session.begin_nested():
            await apply(session, change)
            await session.flush()
    except IntegrityError as exc:
        state = sqlstate(exc)
        if state == UNIQUE_VIOLATION:
            raise Conflict(
                f"A {what} with this code already exists.", conflict_type="duplicate"
            ) from None
        if state in (FOREIGN_KEY_VIOLATION, RESTRICT_VIOLATION):
            raise Conflict(
                f"The {what} is in use; unassign it first.", conflict_type="in_use"
            ) from None
        raise


async def apply(session: AsyncSession, change: Callable[[], Any]) -> None:
    result = change()
    if isawaitable(result):
        await result


def require_values(changes: dict[str, Any], fields: Sequence[str]) -> None:
    for name in fields:
        if name in changes and changes[name] is None:
            raise Unprocessable(
                f"{name} cannot be null.",
                errors=[{"field": name, "in": "body", "message": "cannot be null"}],
            )


def set_values(row: Any, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        setattr(row, key, value)


def invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors=[{"field": field, "in": "body", "message": message}])
