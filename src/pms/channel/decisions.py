"""Staff decisions on platform requests: confirming or declining a booking that is an Airbnb
reservation request (or has a pending alteration request) carries the decision to the platform.
Core changes first in the request's transaction; if the platform refuses, nothing commits."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.channel import connections
from pms.channel.adapters import adapter_for
from pms.channel.adapters.base import CredentialsRefused, PlatformError
from pms.channel.errors import PlatformUnavailable
from pms.channel.inbound import acknowledge_closed
from pms.core import bookings
from pms.core.booking_status import BookingStatus
from pms.core.errors import Conflict
from pms.core.tenancy import Actor
from pms.models.channel import ChannelConnection, ChannelMapping, ChannelReservation
from pms.settings import Settings


async def _platform(
    session: AsyncSession, record: ChannelReservation
) -> tuple[ChannelMapping, ChannelConnection]:
    mapping = await session.get(ChannelMapping, record.mapping_id)
    assert mapping is not None
    connection = await session.get(ChannelConnection, mapping.connection_id)
    assert connection is not None
    return mapping, connection


def _refused(exc: PlatformError) -> Exception:
    if exc.status == 409:
        return Conflict(
            f"The platform refused the decision: {exc}", conflict_type="platform_refused"
        )
    return PlatformUnavailable(f"The platform did not take the decision (HTTP {exc.status}).")


async def decide(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    booking_id: uuid.UUID,
    target: BookingStatus,
) -> bookings.Transitioned:
    """Confirm or decline; for a platform request the decision goes to the platform too.

    Locks the platform's reservation record before the booking, the order in which an inbound
    message applies to them: in the other order, a decision made while the platform's message
    about the same stay is being applied deadlocks with it, and PostgreSQL aborts one of them."""
    record = (
        await session.execute(
            select(ChannelReservation)
            .where(
                ChannelReservation.booking_id == booking_id,
                ChannelReservation.agency_id == actor.agency_id,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    booking, guest = await bookings.get(session, actor, booking_id, lock=True)
    if record is None:
        return await bookings.transition(session, actor, booking_id, target)
    mapping, connection = await _platform(session, record)
    adapter = adapter_for(connection.platform, settings)
    accept = target is BookingStatus.CONFIRMED
    if record.pending_alteration_id is not None and booking.status is BookingStatus.CONFIRMED:
        # An alteration request: the platform applies the new stay, its webhook brings it here.
        try:
            credentials = await connections.fresh_credentials(settings, connection)
            await adapter.decide_alteration(credentials, record.pending_alteration_id, accept)
        except CredentialsRefused:
            raise PlatformUnavailable(
                "The platform refused the connection's credentials."
            ) from None
        except PlatformError as exc:
            raise _refused(exc) from None
        record.pending_alteration_id = None
        return bookings.Transitioned(booking, guest, booking.status)
    result = await bookings.transition(session, actor, booking_id, target)
    if record.remote_status == "requested" and booking.status in (
        BookingStatus.CONFIRMED,
        BookingStatus.DECLINED,
    ):
        try:
            credentials = await connections.fresh_credentials(settings, connection)
            if accept:
                await adapter.accept(credentials, record.code)
            else:
                await adapter.decline(credentials, record.code)
        except CredentialsRefused:
            raise PlatformUnavailable(
                "The platform refused the connection's credentials."
            ) from None
        except PlatformError as exc:
            raise _refused(exc) from None
        record.remote_status = "confirmed" if accept else "declined"
        if accept:
            # Airbnb holds these nights for the reservation itself: do not echo the closing.
            await acknowledge_closed(session, mapping, booking.check_in, booking.check_out)
    return result
