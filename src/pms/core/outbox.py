"""Writing outbox events (always inside the transaction that makes the change they describe) and
the shapes they travel in once committed: the Celery message and the live-stream message."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, TypedDict

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from pms.logs import request_id_var
from pms.models.outbox import OutboxEvent


def current_request_id() -> str | None:
    """The request id events carry (for a service that writes them in its own statement)."""
    return request_id_var.get()


# The columns `event` gives values for, in its order (for a service that inserts them itself).
EVENT_COLUMNS = (
    "agency_id",
    "event_type",
    "aggregate_type",
    "aggregate_id",
    "payload",
    "request_id",
)


def event(
    *,
    agency_id: uuid.UUID,
    event_type: str,
    aggregate_type: str,
    aggregate_id: Any,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """The column values of one outbox event (``emit`` adds it to the session; a service that
    writes its rows in one statement inserts these values itself)."""
    return {
        "agency_id": agency_id,
        "event_type": event_type,
        "aggregate_type": aggregate_type,
        "aggregate_id": str(aggregate_id),
        "payload": payload,
        "request_id": current_request_id(),
    }


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
            **event(
                agency_id=agency_id,
                event_type=event_type,
                aggregate_type=aggregate_type,
                aggregate_id=aggregate_id,
                payload=payload,
            )
        )
    )


def availability_event(
    agency_id: uuid.UUID, property_id: uuid.UUID, start: date, end: date
) -> dict[str, Any]:
    """Nights ``[start, end)`` of a property may have changed availability."""
    return event(
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


def availability_changed(
    session: AsyncSession,
    agency_id: uuid.UUID,
    property_id: uuid.UUID,
    start: date,
    end: date,
) -> None:
    """Nights ``[start, end)`` of a property may have changed availability."""
    session.add(OutboxEvent(**availability_event(agency_id, property_id, start, end)))


DISPATCH_TASK = "pms.outbox.dispatch"
# What the relay publishes: the events of one sweep's batch, consumed in order by one task.
DISPATCH_BATCH_TASK = "pms.outbox.dispatch_batch"


class EventMessage(TypedDict):
    """A committed outbox event as the relay publishes it to Celery (JSON-safe)."""

    id: int
    event_id: str
    agency_id: str | None
    type: str
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]
    created_at: str
    request_id: str | None


class LiveMessage(TypedDict):
    """What the live stream (a Redis stream per agency → Server-Sent Events) carries per
    event; ``event_id`` names it (a re-published event carries the same one). The outbox id,
    a global sequence value, stays inside: it would tell an agency the platform's volume."""

    event_id: str
    type: str
    payload: dict[str, Any]
    created_at: str


def message(event: OutboxEvent | Row[Any]) -> EventMessage:
    """The message of one event: its ORM row, or a row of the table's columns."""
    return {
        "id": event.id,
        "event_id": str(event.event_id),
        "agency_id": str(event.agency_id) if event.agency_id else None,
        "type": event.event_type,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "payload": event.payload,
        "created_at": event.created_at.isoformat(),
        "request_id": event.request_id,
    }


def live_message(m: EventMessage) -> LiveMessage:
    return {
        "event_id": m["event_id"],
        "type": m["type"],
        "payload": m["payload"],
        "created_at": m["created_at"],
    }


# Entries kept per agency's live stream (trimmed approximately): a client reconnecting with a
# Last-Event-ID older than the oldest kept entry is told to reload (``event: reset``).
LIVE_STREAM_MAXLEN = 10_000


def live_stream(agency_id: uuid.UUID | str) -> str:
    """The Redis stream of one agency's live events, in the order the relay published them."""
    return f"pms:live:{agency_id}"
