"""Writing outbox events: always inside the transaction that makes the change they describe."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pms.logs import request_id_var
from pms.models.outbox import OutboxEvent


def emit(
    session: AsyncSession,
    *,
    agency_id: uuid.UUID,
    event_type: str,
    aggregate_type: str,
    aggregate_id: Any,
    payload: dict[str, Any],
) -> None:
    session.add(
        OutboxEvent(
            agency_id=agency_id,
            event_type=event_type,
            aggregate_type=aggregate_type,
            aggregate_id=str(aggregate_id),
            payload=payload,
            request_id=request_id_var.get(),
        )
    )


def availability_changed(
    session: AsyncSession,
    agency_id: uuid.UUID,
    property_id: uuid.UUID,
    start: date,
    end: date,
) -> None:
    """Nights ``[start, end)`` of a property may have changed availability."""
    emit(
        session,
        agency_id=agency_id,
        event_type="availability.changed",
        aggregate_type="property",
        aggregate_id=property_id,
        payload={
            "property_id": str(property_id),
            "start": start.isoformat(),
            "end": end.isoformat(),
        },
    )
