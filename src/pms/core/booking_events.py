"""The outbox events a booking's changes produce, written in one place for every path that
changes a booking (the API's services and the hold-expiry job alike)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import ari_store, outbox
from pms.core.booking_status import BookingStatus, occupies
from pms.models.booking import Booking


def event_payload(b: Booking) -> dict[str, Any]:
    return {
        "booking_id": str(b.id),
        "reference": b.reference,
        "property_id": str(b.property_id),
        "status": b.status.value,
        "source": b.source.value,
        "channel_booking_id": b.channel_booking_id,
        "check_in": b.check_in.isoformat(),
        "check_out": b.check_out.isoformat(),
        "version": b.version,
    }


async def status_changed(
    session: AsyncSession, booking: Booking, from_status: BookingStatus
) -> None:
    """``booking.status_changed``, plus ``availability.changed`` (and the ARI rows of those
    nights recomputed) when the nights were taken or freed by the change."""
    outbox.emit(
        session,
        agency_id=booking.agency_id,
        event_type="booking.status_changed",
        aggregate_type="booking",
        aggregate_id=booking.id,
        payload={**event_payload(booking), "from_status": from_status.value},
    )
    if occupies(from_status) != occupies(booking.status):
        await ari_store.availability_changed(
            session, booking.agency_id, booking.property_id, booking.check_in, booking.check_out
        )
