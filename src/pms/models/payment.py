"""Payments for bookings through a provider (offline or Stripe), and Stripe events seen once."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import DateTime

from pms.models.base import Base, Timestamped


class PaymentProviderName(StrEnum):
    OFFLINE = "offline"
    STRIPE = "stripe"


class PaymentMethod(StrEnum):
    CARD = "card"
    BANK_TRANSFER = "bank_transfer"
    PAY_ON_ARRIVAL = "pay_on_arrival"


class PaymentStatus(StrEnum):
    PENDING = "pending"
    # The card is authorised (Stripe: requires_capture); the money is taken on capture.
    AUTHORIZED = "authorized"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    # Nothing was taken and nothing can be (an authorisation released, an unpaid intent voided).
    CANCELED = "canceled"


class CaptureMethod(StrEnum):
    AUTOMATIC = "automatic"  # charged when the guest pays (instant book)
    MANUAL = "manual"  # authorised when the guest pays, captured on approval (request to book)


def _enum(cls: type[StrEnum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


PROVIDER_ENUM = _enum(PaymentProviderName, "payment_provider")
METHOD_ENUM = _enum(PaymentMethod, "payment_method")
PAYMENT_STATUS_ENUM = _enum(PaymentStatus, "payment_status")


class Payment(Timestamped, Base):
    __tablename__ = "payments"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), nullable=False
    )
    booking_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False
    )
    provider: Mapped[PaymentProviderName] = mapped_column(PROVIDER_ENUM, nullable=False)
    method: Mapped[PaymentMethod] = mapped_column(METHOD_ENUM, nullable=False)
    # The PaymentIntent id with Stripe; our own reference for offline payments.
    provider_ref: Mapped[str] = mapped_column(String(255), nullable=False)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[PaymentStatus] = mapped_column(PAYMENT_STATUS_ENUM, nullable=False)
    capture_method: Mapped[str] = mapped_column(
        String(10), nullable=False, server_default=CaptureMethod.AUTOMATIC.value
    )
    failure_reason: Mapped[str | None] = mapped_column(Text)
    succeeded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    authorized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    canceled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("refunded_minor BETWEEN 0 AND amount_minor", name="refund_within_amount"),
        CheckConstraint("capture_method IN ('automatic', 'manual')", name="capture_method"),
        Index("uq_payments_provider_provider_ref", "provider", "provider_ref", unique=True),
        Index("ix_payments_agency_id_booking_id", "agency_id", "booking_id"),
    )


class StripeEvent(Base):
    """Every verified Stripe event id, recorded once: a replayed event finds its row and stops.
    Not a tenant table: it holds no agency data, only ids and the outcome."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    payment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    outcome: Mapped[str] = mapped_column(String(30), nullable=False)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()"), nullable=False
    )
