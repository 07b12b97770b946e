"""Bookings: a guest's stay at a property, whatever channel it came from."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import DateTime

from pms.models.base import Base, Timestamped


class BookingStatus(StrEnum):
    """Where a booking stands; the transitions and which statuses occupy nights are
    ``pms.core.booking_status``."""

    INQUIRY = "inquiry"
    REQUESTED = "requested"
    HOLD = "hold"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    CHECKED_OUT = "checked_out"
    CONFLICT = "conflict"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    EXPIRED = "expired"
    NO_SHOW = "no_show"


# PMS-<year>-<number>: the number comes from one sequence, so references are unique per agency
# (and globally) without a counter row that concurrent bookings would queue on.
REFERENCE_DEFAULT = " || ".join(
    [
        "'PMS-'",
        "to_char(now(), 'YYYY')",
        "'-'",
        "lpad(nextval('booking_reference_seq')::text, 6, '0')",
    ]
)


class BookingSource(StrEnum):
    DIRECT = "direct"
    AIRBNB = "airbnb"
    BOOKING_COM = "booking_com"
    EXPEDIA = "expedia"
    FEWO_DIREKT = "fewo_direkt"
    GOOGLE = "google"
    ICAL = "ical"
    MANUAL = "manual"


STATUS_ENUM = Enum(
    BookingStatus, name="booking_status", values_callable=lambda e: [m.value for m in e]
)
SOURCE_ENUM = Enum(
    BookingSource, name="booking_source", values_callable=lambda e: [m.value for m in e]
)


class Booking(Timestamped, Base):
    __tablename__ = "bookings"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), nullable=False
    )
    property_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("properties.id"), nullable=False)
    # A hold (checkout in progress) has no guest yet; every other booking has one.
    guest_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("guests.id"))
    reference: Mapped[str] = mapped_column(
        String(30), nullable=False, server_default=text(REFERENCE_DEFAULT)
    )
    status: Mapped[BookingStatus] = mapped_column(STATUS_ENUM, nullable=False)
    source: Mapped[BookingSource] = mapped_column(SOURCE_ENUM, nullable=False)
    channel_booking_id: Mapped[str | None] = mapped_column(String(100))
    check_in: Mapped[date] = mapped_column(Date, nullable=False)
    check_out: Mapped[date] = mapped_column(Date, nullable=False)
    adults: Mapped[int] = mapped_column(Integer, nullable=False)
    children: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    infants: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    pets: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    notes: Mapped[str | None] = mapped_column(Text)
    hold_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hold_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    quote: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What a cancellation gave back: the cancellation policy's amount, or a manager's choice.
    refund_minor: Mapped[int | None] = mapped_column(Integer)
    refund_currency: Mapped[str | None] = mapped_column(String(3))
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    # A hold whose checkout became a request to book points at that request (the guest's link
    # to the hold then shows the request).
    replaced_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL")
    )

    __table_args__ = (
        CheckConstraint("check_out > check_in", name="stay_not_empty"),
        CheckConstraint(
            "guest_id IS NOT NULL OR status IN ('hold', 'expired', 'cancelled')", name="guest"
        ),
        CheckConstraint(
            "adults >= 1 AND children >= 0 AND infants >= 0 AND pets >= 0", name="guests"
        ),
        CheckConstraint(
            "(refund_minor IS NULL) = (refund_currency IS NULL) AND refund_minor >= 0",
            name="refund",
        ),
        Index("uq_bookings_agency_id_reference", "agency_id", "reference", unique=True),
        Index(
            "uq_bookings_channel",
            "agency_id",
            "source",
            "channel_booking_id",
            unique=True,
            postgresql_where=text("channel_booking_id IS NOT NULL"),
        ),
        Index("ix_bookings_agency_id_property_id_check_in", "agency_id", "property_id", "check_in"),
        Index("ix_bookings_guest_id", "guest_id"),
        Index(
            "ix_bookings_hold_expiry",
            "hold_expires_at",
            postgresql_where=text("status = 'hold'"),
        ),
    )
