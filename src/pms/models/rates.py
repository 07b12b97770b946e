"""Rates: rate plans with their seasons and per-date overrides, the agency's fees, tax classes,
visitor-tax locations and cancellation policies, what each property uses, and the compiled
daily ARI rows that search, quotes and channels read."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from pms.models.base import Base, Timestamped

SEASONS_EXCLUSION = "ex_rate_seasons_no_overlap"


def _id() -> Mapped[uuid.UUID]:
    return mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )


def _agency() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), nullable=False)


class RatePlan(Timestamped, Base):
    __tablename__ = "rate_plans"

    id: Mapped[uuid.UUID] = _id()
    agency_id: Mapped[uuid.UUID] = _agency()
    property_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("properties.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False)
    base_price_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    default_min_stay: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    default_max_stay: Mapped[int | None] = mapped_column(Integer)
    # {"4": 12000, "5": 12000}: weekday (0 = Monday) → price in minor units.
    weekday_prices: Mapped[dict[str, int]] = mapped_column(
        JSONB, nullable=False, server_default="{}"
    )
    # [{"min_nights": 7, "percent": "10"}]
    los_discounts: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default="[]"
    )
    min_lead_days: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    max_advance_days: Mapped[int | None] = mapped_column(Integer)
    # The dates whose ARI rows are stored: [ari_start, ari_end), rolled forward daily.
    ari_start: Mapped[date] = mapped_column(Date, nullable=False)
    ari_end: Mapped[date] = mapped_column(Date, nullable=False)

    __table_args__ = (
        Index("ix_rate_plans_property_id", "property_id"),
        Index(
            "uq_rate_plans_default",
            "property_id",
            unique=True,
            postgresql_where=text("is_default"),
        ),
    )


class RateSeason(Timestamped, Base):
    __tablename__ = "rate_seasons"

    id: Mapped[uuid.UUID] = _id()
    agency_id: Mapped[uuid.UUID] = _agency()
    rate_plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rate_plans.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False, server_default="")
    start: Mapped[date] = mapped_column(Date, nullable=False)
    end: Mapped[date] = mapped_column(Date, nullable=False)
    price_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    min_stay: Mapped[int | None] = mapped_column(Integer)
    weekday_prices: Mapped[dict[str, int]] = mapped_column(
        JSONB, nullable=False, server_default="{}"
    )

    __table_args__ = (
        CheckConstraint('"end" > start', name="range_not_empty"),
        Index("ix_rate_seasons_rate_plan_id_start", "rate_plan_id", "start"),
    )


class RateDayOverride(Base):
    __tablename__ = "rate_day_overrides"

    rate_plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rate_plans.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    agency_id: Mapped[uuid.UUID] = _agency()
    price_minor: Mapped[int | None] = mapped_column(Integer)
    min_stay: Mapped[int | None] = mapped_column(Integer)
    max_stay: Mapped[int | None] = mapped_column(Integer)
    closed: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    closed_to_arrival: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    closed_to_departure: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default="false"
    )


class TaxClass(Timestamped, Base):
    __tablename__ = "tax_classes"

    id: Mapped[uuid.UUID] = _id()
    agency_id: Mapped[uuid.UUID] = _agency()
    code: Mapped[str] = mapped_column(String(50), nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False, server_default="")
    rate_percent: Mapped[Decimal] = mapped_column(Numeric(6, 3), nullable=False)
    inclusive: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")

    __table_args__ = (Index("uq_tax_classes_agency_id_code", "agency_id", "code", unique=True),)


class FeeKind(StrEnum):
    """How a fee is charged (``Fee.kind``); the arithmetic is ``pms.core.quotes``."""

    PER_STAY = "per_stay"
    PER_NIGHT = "per_night"
    PER_GUEST_PER_NIGHT = "per_guest_per_night"
    # Per guest above `guests_included`, per night: "2 guests included, 15.00 per extra person".
    PER_EXTRA_GUEST_PER_NIGHT = "per_extra_guest_per_night"
    # Per pet, once per stay (a pet's extra cleaning does not grow with the nights).
    PER_PET = "per_pet"
    PERCENT_OF_ACCOMMODATION = "percent_of_accommodation"


class Fee(Timestamped, Base):
    __tablename__ = "fees"

    id: Mapped[uuid.UUID] = _id()
    agency_id: Mapped[uuid.UUID] = _agency()
    code: Mapped[str] = mapped_column(String(50), nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False, server_default="")
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount_minor: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    percent: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    tax_class_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tax_classes.id", ondelete="RESTRICT")
    )
    guests_included: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")

    __table_args__ = (Index("uq_fees_agency_id_code", "agency_id", "code", unique=True),)


class VisitorTaxLocation(Timestamped, Base):
    __tablename__ = "visitor_tax_locations"

    id: Mapped[uuid.UUID] = _id()
    agency_id: Mapped[uuid.UUID] = _agency()
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    child_age_limit: Mapped[int] = mapped_column(Integer, nullable=False)
    max_nights: Mapped[int | None] = mapped_column(Integer)


class CancellationPolicy(Timestamped, Base):
    __tablename__ = "cancellation_policies"

    id: Mapped[uuid.UUID] = _id()
    agency_id: Mapped[uuid.UUID] = _agency()
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # [{"days_before": 30, "refund_percent": "100"}]
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)


class PropertyPricing(Timestamped, Base):
    """What a property uses besides its rate plans; absent = nothing assigned."""

    __tablename__ = "property_pricing"

    property_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("properties.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[uuid.UUID] = _agency()
    accommodation_tax_class_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tax_classes.id", ondelete="RESTRICT")
    )
    visitor_tax_location_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("visitor_tax_locations.id", ondelete="RESTRICT")
    )
    cancellation_policy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("cancellation_policies.id", ondelete="RESTRICT")
    )


class PropertyFee(Base):
    __tablename__ = "property_fees"

    property_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("properties.id", ondelete="CASCADE"), primary_key=True
    )
    fee_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("fees.id", ondelete="RESTRICT"), primary_key=True
    )
    agency_id: Mapped[uuid.UUID] = _agency()
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class AriDay(Base):
    """One compiled day of one rate plan (core/ari.py decides every value)."""

    __tablename__ = "ari_days"

    rate_plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rate_plans.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    agency_id: Mapped[uuid.UUID] = _agency()
    property_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("properties.id"), nullable=False)
    available: Mapped[bool] = mapped_column(Boolean, nullable=False)
    price_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    min_stay: Mapped[int] = mapped_column(Integer, nullable=False)
    max_stay: Mapped[int | None] = mapped_column(Integer)
    closed_to_arrival: Mapped[bool] = mapped_column(Boolean, nullable=False)
    closed_to_departure: Mapped[bool] = mapped_column(Boolean, nullable=False)
    min_stay_source: Mapped[str] = mapped_column(String(10), nullable=False)

    __table_args__ = (Index("ix_ari_days_property_id_day", "property_id", "day"),)
