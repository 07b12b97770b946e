"""Rates: rate plans, seasons (never overlapping within a plan), per-date overrides, fees, tax
classes, visitor-tax locations, cancellation policies, per-property assignment, and the daily
ARI rows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import rls_policies as rls
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SEASONS_EXCLUSION = "ex_rate_seasons_no_overlap"

# Tables the daily horizon roll-forward reads and writes across agencies as a system job.
SYSTEM_TABLES = ("rate_plans", "rate_seasons", "rate_day_overrides", "ari_days")
TENANT_TABLES = (
    "tax_classes",
    "fees",
    "visitor_tax_locations",
    "cancellation_policies",
    "property_pricing",
    "property_fees",
)


def _timestamps() -> list[sa.Column[sa.DateTime]]:
    return [
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    ]


def _id() -> sa.Column[sa.UUID]:
    return sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), primary_key=True)


def _agency() -> sa.Column[sa.UUID]:
    return sa.Column(
        "agency_id", sa.UUID(), sa.ForeignKey("agencies.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    jsonb = postgresql.JSONB(astext_type=sa.Text())
    op.create_table(
        "rate_plans",
        _id(),
        _agency(),
        sa.Column("property_id", sa.UUID(), sa.ForeignKey("properties.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("base_price_minor", sa.Integer(), nullable=False),
        sa.Column("default_min_stay", sa.Integer(), server_default="1", nullable=False),
        sa.Column("default_max_stay", sa.Integer(), nullable=True),
        sa.Column("weekday_prices", jsonb, server_default="{}", nullable=False),
        sa.Column("los_discounts", jsonb, server_default="[]", nullable=False),
        sa.Column("min_lead_days", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_advance_days", sa.Integer(), nullable=True),
        sa.Column("ari_start", sa.Date(), nullable=False),
        sa.Column("ari_end", sa.Date(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("base_price_minor >= 0", name="ck_rate_plans_price"),
        sa.CheckConstraint(
            "default_min_stay >= 1 AND (default_max_stay IS NULL "
            "OR default_max_stay >= default_min_stay)",
            name="ck_rate_plans_stay",
        ),
    )
    op.create_index("ix_rate_plans_property_id", "rate_plans", ["property_id"])
    op.create_index(
        "uq_rate_plans_default",
        "rate_plans",
        ["property_id"],
        unique=True,
        postgresql_where=sa.text("is_default"),
    )
    op.create_table(
        "rate_seasons",
        _id(),
        _agency(),
        sa.Column(
            "rate_plan_id",
            sa.UUID(),
            sa.ForeignKey("rate_plans.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), server_default="", nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("min_stay", sa.Integer(), nullable=True),
        sa.Column("weekday_prices", jsonb, server_default="{}", nullable=False),
        *_timestamps(),
        sa.CheckConstraint('"end" > start', name="ck_rate_seasons_range_not_empty"),
    )
    op.create_index("ix_rate_seasons_rate_plan_id_start", "rate_seasons", ["rate_plan_id", "start"])
    # The database is the guard against overlapping seasons, so concurrent writes cannot race.
    op.execute(
        f"ALTER TABLE rate_seasons ADD CONSTRAINT {SEASONS_EXCLUSION} "
        "EXCLUDE USING gist (rate_plan_id WITH =, daterange(start, \"end\", '[)') WITH &&)"
    )
    op.create_table(
        "rate_day_overrides",
        sa.Column(
            "rate_plan_id",
            sa.UUID(),
            sa.ForeignKey("rate_plans.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("day", sa.Date(), primary_key=True),
        _agency(),
        sa.Column("price_minor", sa.Integer(), nullable=True),
        sa.Column("min_stay", sa.Integer(), nullable=True),
        sa.Column("max_stay", sa.Integer(), nullable=True),
        sa.Column("closed", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("closed_to_arrival", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("closed_to_departure", sa.Boolean(), server_default="false", nullable=False),
    )
    op.create_table(
        "tax_classes",
        _id(),
        _agency(),
        sa.Column("code", sa.String(50), nullable=False),
        sa.Column("label", sa.String(200), server_default="", nullable=False),
        sa.Column("rate_percent", sa.Numeric(6, 3), nullable=False),
        sa.Column("inclusive", sa.Boolean(), server_default="false", nullable=False),
        *_timestamps(),
    )
    op.create_index(
        "uq_tax_classes_agency_id_code", "tax_classes", ["agency_id", "code"], unique=True
    )
    op.create_table(
        "fees",
        _id(),
        _agency(),
        sa.Column("code", sa.String(50), nullable=False),
        sa.Column("label", sa.String(200), server_default="", nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.Integer(), server_default="0", nullable=False),
        sa.Column("percent", sa.Numeric(6, 3), nullable=True),
        sa.Column(
            "tax_class_id",
            sa.UUID(),
            sa.ForeignKey("tax_classes.id", ondelete="RESTRICT"),
            nullable=True,
        ),
        sa.Column("guests_included", sa.Integer(), server_default="0", nullable=False),
        *_timestamps(),
    )
    op.create_index("uq_fees_agency_id_code", "fees", ["agency_id", "code"], unique=True)
    op.create_table(
        "visitor_tax_locations",
        _id(),
        _agency(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("child_age_limit", sa.Integer(), nullable=False),
        sa.Column("max_nights", sa.Integer(), nullable=True),
        *_timestamps(),
    )
    op.create_table(
        "cancellation_policies",
        _id(),
        _agency(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("rules", jsonb, nullable=False),
        *_timestamps(),
    )
    op.create_table(
        "property_pricing",
        sa.Column(
            "property_id",
            sa.UUID(),
            sa.ForeignKey("properties.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _agency(),
        sa.Column(
            "accommodation_tax_class_id",
            sa.UUID(),
            sa.ForeignKey("tax_classes.id", ondelete="RESTRICT"),
            nullable=True,
        ),
        sa.Column(
            "visitor_tax_location_id",
            sa.UUID(),
            sa.ForeignKey("visitor_tax_locations.id", ondelete="RESTRICT"),
            nullable=True,
        ),
        sa.Column(
            "cancellation_policy_id",
            sa.UUID(),
            sa.ForeignKey("cancellation_policies.id", ondelete="RESTRICT"),
            nullable=True,
        ),
        *_timestamps(),
    )
    op.create_table(
        "property_fees",
        sa.Column(
            "property_id",
            sa.UUID(),
            sa.ForeignKey("properties.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "fee_id", sa.UUID(), sa.ForeignKey("fees.id", ondelete="RESTRICT"), primary_key=True
        ),
        _agency(),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "ari_days",
        sa.Column(
            "rate_plan_id",
            sa.UUID(),
            sa.ForeignKey("rate_plans.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("day", sa.Date(), primary_key=True),
        _agency(),
        sa.Column("property_id", sa.UUID(), sa.ForeignKey("properties.id"), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("min_stay", sa.Integer(), nullable=False),
        sa.Column("max_stay", sa.Integer(), nullable=True),
        sa.Column("closed_to_arrival", sa.Boolean(), nullable=False),
        sa.Column("closed_to_departure", sa.Boolean(), nullable=False),
        sa.Column("min_stay_source", sa.String(10), nullable=False),
    )
    op.create_index("ix_ari_days_property_id_day", "ari_days", ["property_id", "day"])
    for table in SYSTEM_TABLES:
        for stmt in rls.tenant_table(table, system_access=True):
            op.execute(stmt)
    for table in TENANT_TABLES:
        for stmt in rls.tenant_table(table):
            op.execute(stmt)


def downgrade() -> None:
    for table in (
        "ari_days",
        "property_fees",
        "property_pricing",
        "cancellation_policies",
        "visitor_tax_locations",
        "fees",
        "tax_classes",
        "rate_day_overrides",
        "rate_seasons",
        "rate_plans",
    ):
        for stmt in rls.drop_tenant_table(table):
            op.execute(stmt)
        op.drop_table(table)
