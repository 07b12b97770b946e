"""The audit log, written in the same transaction as the change it records."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import inspect, update
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core.tenancy import Actor
from pms.logs import request_id_var
from pms.models.audit import AuditEntry
from pms.models.base import Base


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return None
    return value


_NEVER_AUDITED = {"password_hash", "refresh_hash", "token_hash"}


def snapshot(obj: Base) -> dict[str, Any]:
    """The row's loaded column values as JSON (secrets left out). Reads only what is loaded,
    so it never triggers I/O (server-side defaults expired by a flush are simply absent)."""
    loaded = inspect(obj).dict
    return {
        c.key: _jsonable(loaded[c.key])
        for c in inspect(obj.__class__).column_attrs
        if c.key in loaded and c.key not in _NEVER_AUDITED
    }


# The columns `entry` gives values for, in its order (for a service that inserts them itself).
ENTRY_COLUMNS = (
    "agency_id",
    "actor_user_id",
    "entity_type",
    "entity_id",
    "action",
    "before",
    "after",
    "request_id",
)


def entry(
    actor: Actor | None,
    *,
    agency_id: uuid.UUID,
    entity_type: str,
    entity_id: Any,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The column values of one audit row (``record`` adds it to the session; a service that
    writes its rows in one statement inserts these values itself). With both snapshots, only
    the keys that changed are kept."""
    if before is not None and after is not None:
        changed = {k for k in after if before.get(k) != after.get(k)}
        before = {k: before.get(k) for k in changed}
        after = {k: after[k] for k in changed}
    return {
        "agency_id": agency_id,
        "actor_user_id": actor.user_id if actor and not actor.public else None,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "action": action,
        "before": before,
        "after": after,
        "request_id": request_id_var.get(),
    }


def created_entry(actor: Actor | None, entity_type: str, obj: Any) -> dict[str, Any]:
    """The audit row (``entry``) saying that ``obj`` (a row with ``id`` and ``agency_id``) was
    created, with its values."""
    return entry(
        actor,
        agency_id=obj.agency_id,
        entity_type=entity_type,
        entity_id=obj.id,
        action="created",
        after=snapshot(obj),
    )


async def created(session: AsyncSession, actor: Actor | None, entity_type: str, obj: Any) -> None:
    """Record that ``obj`` (a row with ``id`` and ``agency_id``) was created, with its values."""
    session.add(AuditEntry(**created_entry(actor, entity_type, obj)))


async def record(
    session: AsyncSession,
    actor: Actor | None,
    *,
    agency_id: uuid.UUID,
    entity_type: str,
    entity_id: Any,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            **entry(
                actor,
                agency_id=agency_id,
                entity_type=entity_type,
                entity_id=entity_id,
                action=action,
                before=before,
                after=after,
            )
        )
    )


async def redact_entity(session: AsyncSession, entity_type: str, entity_id: Any) -> None:
    """GDPR erasure: earlier snapshots of an erased entity must not keep its personal data."""
    await session.execute(
        update(AuditEntry)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == str(entity_id))
        .values(before=None, after=None)
    )
