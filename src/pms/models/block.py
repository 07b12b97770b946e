"""Blocks: dates closed without a booking (owner stays, maintenance, manual, iCal imports)."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from pms.models.base import Base, Timestamped


class BlockKind(StrEnum):
    OWNER = "owner"
    MAINTENANCE = "maintenance"
    MANUAL = "manual"
    ICAL = "ical"


KIND_ENUM = Enum(BlockKind, name="block_kind", values_callable=lambda e: [m.value for m in e])


class Block(Timestamped, Base):
    __tablename__ = "blocks"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), nullable=False
    )
    property_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("properties.id"), nullable=False)
    start: Mapped[date] = mapped_column(Date, nullable=False)
    end: Mapped[date] = mapped_column(Date, nullable=False)
    kind: Mapped[BlockKind] = mapped_column(KIND_ENUM, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    source_ref: Mapped[str | None] = mapped_column(
        String(200), doc="Where an imported block came from (e.g. an iCal feed id)."
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    __table_args__ = (
        CheckConstraint('"end" > start', name="range_not_empty"),
        Index("ix_blocks_agency_id_property_id_start", "agency_id", "property_id", "start"),
    )
