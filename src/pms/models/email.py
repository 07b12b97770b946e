"""The e-mail outbox: messages written in the transaction that causes them, sent by a worker."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import DateTime

from pms.models.base import Base


class EmailStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


EMAIL_STATUS_ENUM = Enum(
    EmailStatus, name="email_status", values_callable=lambda e: [m.value for m in e]
)


class OutboxEmail(Base):
    __tablename__ = "email_outbox"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=sql_text("gen_random_uuid()")
    )
    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), nullable=False
    )
    # Not a foreign key: the message stays in the outbox even if the booking is erased later.
    booking_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # "to" is a reserved word in SQL; the column says what it holds instead.
    to_address: Mapped[str] = mapped_column(String(320), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    html: Mapped[str | None] = mapped_column(Text)
    template: Mapped[str] = mapped_column(String(60), nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    status: Mapped[EmailStatus] = mapped_column(
        EMAIL_STATUS_ENUM, nullable=False, server_default=EmailStatus.QUEUED.value
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "ix_email_outbox_due",
            "next_attempt_at",
            postgresql_where=sql_text("status = 'queued'"),
        ),
        Index("ix_email_outbox_agency_id_created_at", "agency_id", "created_at"),
        Index("ix_email_outbox_booking_id", "booking_id"),
    )
