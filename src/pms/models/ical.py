"""iCal sync: export tokens (secret feed URLs), import feeds with their health, and conflicts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import DateTime

from pms.models.base import Base, Timestamped


class FeedSource(StrEnum):
    """The platform an import feed comes from (and that an export may leave out: no echo)."""

    AIRBNB = "airbnb"
    BOOKING_COM = "booking_com"
    FEWO_DIREKT = "fewo_direkt"
    VRBO = "vrbo"
    OTHER = "other"


SOURCE_VALUES = ", ".join(f"'{s.value}'" for s in FeedSource)


class IcalExport(Timestamped, Base):
    """A secret feed URL for one property; only the token's SHA-256 is stored."""

    __tablename__ = "ical_exports"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), nullable=False
    )
    property_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("properties.id"), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    token_hint: Mapped[str] = mapped_column(String(8), nullable=False)
    exclude_source: Mapped[str | None] = mapped_column(String(20))
    include_holds: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    __table_args__ = (
        CheckConstraint(
            f"exclude_source IS NULL OR exclude_source IN ({SOURCE_VALUES})",
            name="exclude_source_known",
        ),
        Index("ix_ical_exports_agency_id_property_id", "agency_id", "property_id"),
    )


class IcalFeed(Timestamped, Base):
    """An imported feed; the URL is a secret, stored encrypted, shown only redacted."""

    __tablename__ = "ical_feeds"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), nullable=False
    )
    property_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("properties.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    url_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    url_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    url_redacted: Mapped[str] = mapped_column(String(300), nullable=False)
    poll_interval_seconds: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default="600"
    )
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    next_poll_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    event_count: Mapped[int | None] = mapped_column(Integer)
    consecutive_failures: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    __table_args__ = (
        CheckConstraint(f"source IN ({SOURCE_VALUES})", name="source_known"),
        CheckConstraint("poll_interval_seconds >= 60", name="poll_interval_min"),
        Index("ix_ical_feeds_next_poll_at", "next_poll_at"),
        Index("uq_ical_feeds_property_url", "agency_id", "property_id", "url_hash", unique=True),
    )


class IcalConflict(Base):
    """A feed range that collides with a stay we already have: recorded, never dropped."""

    __tablename__ = "ical_conflicts"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), nullable=False
    )
    feed_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ical_feeds.id", ondelete="CASCADE"), nullable=False
    )
    property_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("properties.id"), nullable=False)
    start: Mapped[date] = mapped_column(Date, nullable=False)
    end: Mapped[date] = mapped_column(Date, nullable=False)
    clash_type: Mapped[str] = mapped_column(String(20), nullable=False)
    clash_start: Mapped[date] = mapped_column(Date, nullable=False)
    clash_end: Mapped[date] = mapped_column(Date, nullable=False)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    detected_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "uq_ical_conflicts_open",
            "feed_id",
            "start",
            "end",
            "booking_id",
            unique=True,
            postgresql_where=text("resolved_at IS NULL"),
        ),
        Index("ix_ical_conflicts_agency_id_feed_id", "agency_id", "feed_id"),
    )
