"""iCal sync: export tokens, import feeds with health, conflicts, alerts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import rls_policies as rls
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen as written: the platforms a feed may come from.
SOURCES = "'airbnb', 'booking_com', 'fewo_direkt', 'vrbo', 'other'"


def _timestamps() -> list[sa.Column[object]]:
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


def _tenant_fks(table: str) -> list[sa.ForeignKeyConstraint]:
    return [
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f(f"fk_{table}_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["property_id"], ["properties.id"], name=op.f(f"fk_{table}_property_id_properties")
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "ical_exports",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_hint", sa.String(length=8), nullable=False),
        sa.Column("exclude_source", sa.String(length=20), nullable=True),
        sa.Column("include_holds", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            f"exclude_source IS NULL OR exclude_source IN ({SOURCES})",
            name=op.f("ck_ical_exports_exclude_source_known"),
        ),
        *_tenant_fks("ical_exports"),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_ical_exports_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ical_exports")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_ical_exports_token_hash")),
    )
    op.create_index(
        "ix_ical_exports_agency_id_property_id", "ical_exports", ["agency_id", "property_id"]
    )
    op.create_table(
        "ical_feeds",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("url_encrypted", sa.Text(), nullable=False),
        sa.Column("url_hash", sa.String(length=64), nullable=False),
        sa.Column("url_redacted", sa.String(length=300), nullable=False),
        sa.Column("poll_interval_seconds", sa.Integer(), server_default="600", nullable=False),
        sa.Column("etag", sa.String(length=300), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column(
            "next_poll_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(f"source IN ({SOURCES})", name=op.f("ck_ical_feeds_source_known")),
        sa.CheckConstraint(
            "poll_interval_seconds >= 60", name=op.f("ck_ical_feeds_poll_interval_min")
        ),
        *_tenant_fks("ical_feeds"),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_ical_feeds_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ical_feeds")),
    )
    op.create_index("ix_ical_feeds_next_poll_at", "ical_feeds", ["next_poll_at"])
    op.create_index(
        "uq_ical_feeds_property_url",
        "ical_feeds",
        ["agency_id", "property_id", "url_hash"],
        unique=True,
    )
    op.create_table(
        "ical_conflicts",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("feed_id", sa.UUID(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("clash_type", sa.String(length=20), nullable=False),
        sa.Column("clash_start", sa.Date(), nullable=False),
        sa.Column("clash_end", sa.Date(), nullable=False),
        sa.Column("booking_id", sa.UUID(), nullable=True),
        sa.Column(
            "detected_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        *_tenant_fks("ical_conflicts"),
        sa.ForeignKeyConstraint(
            ["feed_id"],
            ["ical_feeds.id"],
            name=op.f("fk_ical_conflicts_feed_id_ical_feeds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ical_conflicts")),
    )
    op.create_index(
        "uq_ical_conflicts_open",
        "ical_conflicts",
        ["feed_id", "start", "end", "booking_id"],
        unique=True,
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_index(
        "ix_ical_conflicts_agency_id_feed_id", "ical_conflicts", ["agency_id", "feed_id"]
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("feed_id", sa.UUID(), nullable=True),
        sa.Column("property_id", sa.UUID(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_alerts_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["feed_id"],
            ["ical_feeds.id"],
            name=op.f("fk_alerts_feed_id_ical_feeds"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["property_id"], ["properties.id"], name=op.f("fk_alerts_property_id_properties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index("ix_alerts_agency_id_created_at", "alerts", ["agency_id", "created_at"])
    op.create_index(
        "ix_alerts_open_per_feed",
        "alerts",
        ["feed_id", "kind"],
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    # The public feed URL finds its export by token hash before any agency is known, and the
    # scheduler polls feeds of every agency: both as declared system jobs.
    for table in ("ical_exports", "ical_feeds"):
        for stmt in rls.tenant_table(table, system_access=True):
            op.execute(stmt)
    for table in ("ical_conflicts", "alerts"):
        for stmt in rls.tenant_table(table):
            op.execute(stmt)


def downgrade() -> None:
    for table in ("alerts", "ical_conflicts", "ical_feeds", "ical_exports"):
        for stmt in rls.drop_tenant_table(table):
            op.execute(stmt)
        op.drop_table(table)
