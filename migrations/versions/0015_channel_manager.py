"""Channel Manager: connections, mappings, the outbound queue (dirty ranges), acknowledged
nights, sync log, dead letters, inbound inbox, channel reservations and conflicts

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# Written out (migrations import no live code): every table is tenant-scoped, and system jobs
# (webhook intake, the engine's sweeps) may see every agency's rows, as in 0005.
_TABLES = (
    "channel_connections",
    "channel_mappings",
    "channel_dirty",
    "channel_nights",
    "channel_sync_log",
    "channel_dead_letters",
    "channel_inbox",
    "channel_reservations",
    "channel_conflicts",
)
_SYSTEM = "current_setting('app.system', true) = 'on'"


def _rls(table: str) -> list[str]:
    using = f"(agency_id = pms_current_agency()) OR ({_SYSTEM})"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_tenant_read ON {table} FOR SELECT USING ({using})",
        f"CREATE POLICY {table}_tenant_insert ON {table} FOR INSERT WITH CHECK ({using})",
        f"CREATE POLICY {table}_tenant_update ON {table} FOR UPDATE "
        f"USING ({using}) WITH CHECK ({using})",
        f"CREATE POLICY {table}_tenant_delete ON {table} FOR DELETE USING ({using})",
    ]


def _ts(name: str, nullable: bool = False, now: bool = False) -> sa.Column[object]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        server_default=sa.text("now()") if now else None,
        nullable=nullable,
    )


def _agency(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["agency_id"], ["agencies.id"], name=f"fk_{table}_agency_id_agencies", ondelete="CASCADE"
    )


def _fk(
    table: str, column: str, target: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def _uuid_pk() -> sa.Column[object]:
    return sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False)


def upgrade() -> None:
    t = "channel_connections"
    op.create_table(
        t,
        _uuid_pk(),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(10), server_default="active", nullable=False),
        sa.Column("account_id", sa.String(100), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column(
            "remote_listings",
            postgresql.JSONB(),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        _ts("last_push_at", True),
        _ts("last_pull_at", True),
        sa.Column("last_error", sa.Text()),
        sa.Column("failures_in_row", sa.Integer(), server_default="0", nullable=False),
        _ts("failing_since", True),
        _ts("created_at", now=True),
        _ts("updated_at", now=True),
        sa.CheckConstraint(
            "status IN ('active', 'paused', 'error', 'revoked')", name=f"ck_{t}_status_known"
        ),
        _agency(t),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
    )
    op.create_index(
        "uq_channel_connections_account", t, ["agency_id", "platform", "account_id"], unique=True
    )

    t = "channel_mappings"
    op.create_table(
        t,
        _uuid_pk(),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("remote_listing_id", sa.String(100), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("rate_plan_id", sa.UUID(), nullable=False),
        sa.Column("markup_kind", sa.String(10), server_default="none", nullable=False),
        sa.Column("markup_value", sa.Integer(), server_default="0", nullable=False),
        sa.Column("sync_availability", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("sync_prices", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("sync_restrictions", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        _ts("last_push_at", True),
        _ts("last_pull_at", True),
        sa.Column("last_error", sa.Text()),
        sa.Column("failures_in_row", sa.Integer(), server_default="0", nullable=False),
        _ts("created_at", now=True),
        _ts("updated_at", now=True),
        sa.CheckConstraint(
            "markup_kind IN ('none', 'percent', 'fixed')", name=f"ck_{t}_markup_known"
        ),
        _agency(t),
        _fk(t, "connection_id", "channel_connections", "CASCADE"),
        _fk(t, "property_id", "properties"),
        _fk(t, "rate_plan_id", "rate_plans", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
    )
    op.create_index(
        "uq_channel_mappings_listing",
        t,
        ["platform", "remote_listing_id"],
        unique=True,
        postgresql_where=sa.text("active"),
    )
    op.create_index("ix_channel_mappings_property_id", t, ["property_id"])
    op.create_index("ix_channel_mappings_connection_id", t, ["connection_id"])

    t = "channel_dirty"
    op.create_table(
        t,
        sa.Column("mapping_id", sa.UUID(), nullable=False),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        _ts("since"),
        sa.Column("seq", sa.BigInteger(), server_default="1", nullable=False),
        _agency(t),
        _fk(t, "mapping_id", "channel_mappings", "CASCADE"),
        sa.PrimaryKeyConstraint("mapping_id", name=f"pk_{t}"),
    )

    t = "channel_nights"
    op.create_table(
        t,
        sa.Column("mapping_id", sa.UUID(), nullable=False),
        sa.Column("night", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("available", sa.Boolean()),
        sa.Column("price_minor", sa.Integer()),
        sa.Column("min_stay", sa.Integer()),
        sa.Column("max_stay", sa.Integer()),
        sa.Column("closed_to_arrival", sa.Boolean()),
        sa.Column("closed_to_departure", sa.Boolean()),
        _ts("pushed_at"),
        _agency(t),
        _fk(t, "mapping_id", "channel_mappings", "CASCADE"),
        sa.PrimaryKeyConstraint("mapping_id", "night", name=f"pk_{t}"),
    )

    t = "channel_sync_log"
    op.create_table(
        t,
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("mapping_id", sa.UUID()),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("start", sa.Date()),
        sa.Column("end", sa.Date()),
        sa.Column("nights", sa.Integer(), server_default="0", nullable=False),
        sa.Column("calls", sa.Integer(), server_default="0", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("latency_ms", sa.Integer(), server_default="0", nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column(
            "details", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        _ts("started_at"),
        _ts("finished_at"),
        _agency(t),
        _fk(t, "connection_id", "channel_connections", "CASCADE"),
        _fk(t, "mapping_id", "channel_mappings", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
    )
    op.create_index("ix_channel_sync_log_connection_id_id", t, ["connection_id", "id"])

    t = "channel_dead_letters"
    op.create_table(
        t,
        _uuid_pk(),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("mapping_id", sa.UUID(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        _ts("created_at", now=True),
        _ts("retried_at", True),
        _agency(t),
        _fk(t, "connection_id", "channel_connections", "CASCADE"),
        _fk(t, "mapping_id", "channel_mappings", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
    )
    op.create_index("ix_channel_dead_letters_connection_id", t, ["connection_id"])

    t = "channel_inbox"
    op.create_table(
        t,
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("agency_id", sa.UUID()),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(60), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text()),
        _ts("received_at", now=True),
        _ts("applied_at", True),
        _agency(t),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
    )
    op.create_index("uq_channel_inbox_message", t, ["platform", "message_id"], unique=True)
    op.create_index(
        "ix_channel_inbox_open",
        t,
        ["received_at"],
        postgresql_where=sa.text("status IN ('pending', 'failed')"),
    )

    t = "channel_reservations"
    op.create_table(
        t,
        _uuid_pk(),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("code", sa.String(100), nullable=False),
        sa.Column("mapping_id", sa.UUID(), nullable=False),
        sa.Column("booking_id", sa.UUID()),
        sa.Column("remote_status", sa.String(20), nullable=False),
        _ts("revision_at"),
        sa.Column("pending_alteration_id", sa.String(100)),
        sa.Column("snapshot", postgresql.JSONB(), nullable=False),
        _ts("created_at", now=True),
        _ts("updated_at", now=True),
        _agency(t),
        _fk(t, "mapping_id", "channel_mappings", "CASCADE"),
        _fk(t, "booking_id", "bookings", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
    )
    op.create_index(
        "uq_channel_reservations_code", t, ["agency_id", "platform", "code"], unique=True
    )
    op.create_index("ix_channel_reservations_booking_id", t, ["booking_id"])

    t = "channel_conflicts"
    op.create_table(
        t,
        _uuid_pk(),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("booking_id", sa.UUID(), nullable=False),
        sa.Column("clashing_booking_id", sa.UUID()),
        sa.Column("clashing_block_id", sa.UUID()),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column(
            "held_block_ids",
            postgresql.JSONB(),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("resolution", sa.String(20)),
        _ts("created_at", now=True),
        _ts("resolved_at", True),
        _agency(t),
        _fk(t, "property_id", "properties"),
        _fk(t, "booking_id", "bookings", "CASCADE"),
        _fk(t, "clashing_booking_id", "bookings", "SET NULL"),
        _fk(t, "clashing_block_id", "blocks", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
    )
    op.create_index(
        "ix_channel_conflicts_open",
        t,
        ["agency_id"],
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    for table in _TABLES:
        for stmt in _rls(table):
            op.execute(stmt)


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_table(table)
