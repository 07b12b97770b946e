"""The one table of occupied ranges, guarded by an exclusion constraint: no two active ranges
of a property overlap, whichever write path put them there.

Rows are kept in step with bookings and blocks by database triggers (migration 0003), so no
code path can change a stay without passing the guard."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import DateTime

from pms.models.base import Base

EXCLUSION_CONSTRAINT = "ex_occupied_ranges_no_overlap"


class OccupiedRange(Base):
    __tablename__ = "occupied_ranges"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    property_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("properties.id"), nullable=False)
    start: Mapped[date] = mapped_column(Date, nullable=False)
    end: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), unique=True
    )
    block_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("blocks.id", ondelete="CASCADE"), unique=True
    )
    hold_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()"), nullable=False
    )

    __table_args__ = (
        Index(
            "ix_occupied_ranges_agency_id_property_id_start", "agency_id", "property_id", "start"
        ),
        # Partial on the active statuses (migration 0011): overlap queries of a window read
        # the ranges ending after it starts, not a property's whole history.
        Index(
            "ix_occupied_ranges_property_id_end",
            "property_id",
            "end",
            postgresql_where=text(
                "status IN ('checked_in', 'checked_out', 'confirmed', 'hold', 'block')"
            ),
        ),
    )
