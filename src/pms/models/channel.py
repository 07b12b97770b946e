"""Channel Manager state: platform connections, listing mappings, the outbound engine's durable
queue (dirty ranges), what each platform acknowledged per night, the sync log, dead letters,
the inbound inbox, channel reservations (revision order) and conflicts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import DateTime

from pms.models.base import Base, Timestamped


class Platform(StrEnum):
    AIRBNB = "airbnb"
    BOOKING_COM = "booking_com"
    EXPEDIA = "expedia"
    FEWO_DIREKT = "fewo_direkt"
    GOOGLE = "google"


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ERROR = "error"
    REVOKED = "revoked"


class MarkupKind(StrEnum):
    NONE = "none"
    PERCENT = "percent"  # markup_value in basis points (1 % = 100)
    FIXED = "fixed"  # markup_value in minor units per night


class InboxStatus(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    SUPERSEDED = "superseded"
    UNMAPPED = "unmapped"
    FAILED = "failed"  # kept with its reason and retried; never dropped


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )


def _agency() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), nullable=False)


class ChannelConnection(Timestamped, Base):
    """One platform account of an agency; its credentials are encrypted (``core.secretbox``)."""

    __tablename__ = "channel_connections"

    id: Mapped[uuid.UUID] = _uuid_pk()
    agency_id: Mapped[uuid.UUID] = _agency()
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, server_default="active")
    account_id: Mapped[str] = mapped_column(String(100), nullable=False)
    credentials: Mapped[str] = mapped_column(Text, nullable=False)
    remote_listings: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb")
    )
    last_push_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_pull_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    failures_in_row: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("status IN ('active', 'paused', 'error', 'revoked')", name="status_known"),
        Index(
            "uq_channel_connections_account",
            "agency_id",
            "platform",
            "account_id",
            unique=True,
        ),
    )


class ChannelMapping(Timestamped, Base):
    """A platform listing mapped to a property and rate plan, with its markup and what to sync."""

    __tablename__ = "channel_mappings"

    id: Mapped[uuid.UUID] = _uuid_pk()
    agency_id: Mapped[uuid.UUID] = _agency()
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("channel_connections.id", ondelete="CASCADE"), nullable=False
    )
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    remote_listing_id: Mapped[str] = mapped_column(String(100), nullable=False)
    property_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("properties.id"), nullable=False)
    rate_plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rate_plans.id", ondelete="CASCADE"), nullable=False
    )
    markup_kind: Mapped[str] = mapped_column(String(10), nullable=False, server_default="none")
    markup_value: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    sync_availability: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    sync_prices: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    sync_restrictions: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    last_push_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_pull_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    failures_in_row: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")

    __table_args__ = (
        CheckConstraint("markup_kind IN ('none', 'percent', 'fixed')", name="markup_known"),
        # A listing is mapped once per platform (the webhook's listing names one property).
        Index(
            "uq_channel_mappings_listing",
            "platform",
            "remote_listing_id",
            unique=True,
            postgresql_where=text("active"),
        ),
        Index("ix_channel_mappings_property_id", "property_id"),
        Index("ix_channel_mappings_connection_id", "connection_id"),
    )


class ChannelDirty(Base):
    """The outbound queue: per mapping, the nights ``[start, end)`` that may differ from what the
    platform has. ``seq`` grows with every change, so a flush removes the row only if nothing
    was added while it pushed; ``since`` is the oldest change not yet on the platform (lag)."""

    __tablename__ = "channel_dirty"

    mapping_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("channel_mappings.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[uuid.UUID] = _agency()
    start: Mapped[date] = mapped_column(Date, nullable=False)
    end: Mapped[date] = mapped_column(Date, nullable=False)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="1")


class ChannelNight(Base):
    """What the platform acknowledged for one night of a mapped listing (the diff's base)."""

    __tablename__ = "channel_nights"

    mapping_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("channel_mappings.id", ondelete="CASCADE"), primary_key=True
    )
    night: Mapped[date] = mapped_column(Date, primary_key=True)
    agency_id: Mapped[uuid.UUID] = _agency()
    available: Mapped[bool | None] = mapped_column(Boolean)
    price_minor: Mapped[int | None] = mapped_column(Integer)
    min_stay: Mapped[int | None] = mapped_column(Integer)
    max_stay: Mapped[int | None] = mapped_column(Integer)
    closed_to_arrival: Mapped[bool | None] = mapped_column(Boolean)
    closed_to_departure: Mapped[bool | None] = mapped_column(Boolean)
    pushed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ChannelSyncLog(Base):
    """One push, pull or reconciliation with its range, calls, attempts, latency and outcome."""

    __tablename__ = "channel_sync_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    agency_id: Mapped[uuid.UUID] = _agency()
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("channel_connections.id", ondelete="CASCADE"), nullable=False
    )
    mapping_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("channel_mappings.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # push | pull | reconcile
    start: Mapped[date | None] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)
    nights: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    calls: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    latency_ms: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (Index("ix_channel_sync_log_connection_id_id", "connection_id", "id"),)


class ChannelDeadLetter(Base):
    """A change that failed N times: kept with its reason until someone retries it."""

    __tablename__ = "channel_dead_letters"

    id: Mapped[uuid.UUID] = _uuid_pk()
    agency_id: Mapped[uuid.UUID] = _agency()
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("channel_connections.id", ondelete="CASCADE"), nullable=False
    )
    mapping_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("channel_mappings.id", ondelete="CASCADE"), nullable=False
    )
    start: Mapped[date] = mapped_column(Date, nullable=False)
    end: Mapped[date] = mapped_column(Date, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    error: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    retried_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_channel_dead_letters_connection_id", "connection_id"),)


class ChannelInbox(Base):
    """A verified inbound message, stored raw before anything is applied (unique per platform
    and message id: a duplicate delivery is a no-op)."""

    __tablename__ = "channel_inbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # Unknown until the message is matched to a mapping (webhooks arrive without a tenant).
    agency_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE")
    )
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    message_id: Mapped[str] = mapped_column(String(200), nullable=False)
    event_type: Mapped[str] = mapped_column(String(60), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The digests of the signatures the message was accepted with: the same one again is a
    # replay (written by the intake function, migration 0019).
    signatures: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'")
    )

    __table_args__ = (
        Index("uq_channel_inbox_message", "platform", "message_id", unique=True),
        Index(
            "ix_channel_inbox_open",
            "received_at",
            postgresql_where=text("status IN ('pending', 'failed')"),
        ),
    )


class ChannelReservation(Timestamped, Base):
    """A platform reservation and the Core booking it became; ``revision_at`` is the newest
    revision applied (older ones are superseded, never applied over it)."""

    __tablename__ = "channel_reservations"

    id: Mapped[uuid.UUID] = _uuid_pk()
    agency_id: Mapped[uuid.UUID] = _agency()
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    code: Mapped[str] = mapped_column(String(100), nullable=False)
    mapping_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("channel_mappings.id", ondelete="CASCADE"), nullable=False
    )
    booking_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL")
    )
    remote_status: Mapped[str] = mapped_column(String(20), nullable=False)
    revision_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    pending_alteration_id: Mapped[str | None] = mapped_column(String(100))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)

    __table_args__ = (
        Index("uq_channel_reservations_code", "agency_id", "platform", "code", unique=True),
        Index("ix_channel_reservations_booking_id", "booking_id"),
    )


class ChannelConflict(Base):
    """A platform booking that collided with a stay already in Core: kept as a non-occupying
    ``conflict`` booking, naming both stays, until someone resolves it."""

    __tablename__ = "channel_conflicts"

    id: Mapped[uuid.UUID] = _uuid_pk()
    agency_id: Mapped[uuid.UUID] = _agency()
    property_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("properties.id"), nullable=False)
    booking_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False
    )
    clashing_booking_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL")
    )
    clashing_block_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("blocks.id", ondelete="SET NULL")
    )
    start: Mapped[date] = mapped_column(Date, nullable=False)
    end: Mapped[date] = mapped_column(Date, nullable=False)
    # Blocks closing the conflicting stay's free nights everywhere until it is resolved.
    held_block_ids: Mapped[list[str]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb")
    )
    resolution: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "ix_channel_conflicts_open",
            "agency_id",
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )


class ChannelFeedDocument(Base):
    """A feed document we host for a pull platform (Vrbo): the hash of what it last said and
    when that changed, which is the index's honest ``lastUpdatedDate``; and ``inputs``, the
    fingerprint of the rows it was built from: while it is unchanged the document is too."""

    __tablename__ = "channel_feed_documents"

    mapping_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("channel_mappings.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    agency_id: Mapped[uuid.UUID] = _agency()
    etag: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    inputs: Mapped[str | None] = mapped_column(String(64))
