"""Bookings, blocks and the occupied-ranges table whose exclusion constraint makes a double
booking impossible on every write path.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import rls_policies as rls
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Written out as they were when this migration was written: the constraint must not silently
# change with the code. tests/integration/test_migrations.py proves they still agree with
# pms.core.booking_status (OCCUPYING plus the block marker).
ACTIVE = ("checked_in", "checked_out", "confirmed", "hold", "block")
BLOCK_MARKER = "block"
EXCLUSION_CONSTRAINT = "ex_occupied_ranges_no_overlap"


def upgrade() -> None:
    op.create_table(
        "blocks",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("owner", "maintenance", "manual", "ical", name="block_kind"),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source_ref", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
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
        sa.CheckConstraint('"end" > start', name=op.f("ck_blocks_range_not_empty")),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_blocks_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_blocks_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["property_id"], ["properties.id"], name=op.f("fk_blocks_property_id_properties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocks")),
    )
    op.create_index(
        "ix_blocks_agency_id_property_id_start",
        "blocks",
        ["agency_id", "property_id", "start"],
        unique=False,
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("guest_id", sa.UUID(), nullable=False),
        sa.Column("reference", sa.String(length=30), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "inquiry",
                "requested",
                "hold",
                "confirmed",
                "checked_in",
                "checked_out",
                "conflict",
                "cancelled",
                "declined",
                "expired",
                "no_show",
                name="booking_status",
            ),
            nullable=False,
        ),
        sa.Column(
            "source",
            sa.Enum(
                "direct",
                "airbnb",
                "booking_com",
                "expedia",
                "fewo_direkt",
                "google",
                "ical",
                "manual",
                name="booking_source",
            ),
            nullable=False,
        ),
        sa.Column("channel_booking_id", sa.String(length=100), nullable=True),
        sa.Column("check_in", sa.Date(), nullable=False),
        sa.Column("check_out", sa.Date(), nullable=False),
        sa.Column("adults", sa.Integer(), nullable=False),
        sa.Column("children", sa.Integer(), server_default="0", nullable=False),
        sa.Column("infants", sa.Integer(), server_default="0", nullable=False),
        sa.Column("pets", sa.Integer(), server_default="0", nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("hold_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("quote", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
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
        sa.CheckConstraint(
            "adults >= 1 AND children >= 0 AND infants >= 0 AND pets >= 0",
            name=op.f("ck_bookings_guests"),
        ),
        sa.CheckConstraint("check_out > check_in", name=op.f("ck_bookings_stay_not_empty")),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_bookings_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["guest_id"], ["guests.id"], name=op.f("fk_bookings_guest_id_guests")
        ),
        sa.ForeignKeyConstraint(
            ["property_id"], ["properties.id"], name=op.f("fk_bookings_property_id_properties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    op.create_index(
        "ix_bookings_agency_id_property_id_check_in",
        "bookings",
        ["agency_id", "property_id", "check_in"],
        unique=False,
    )
    op.create_index("ix_bookings_guest_id", "bookings", ["guest_id"], unique=False)
    op.create_index(
        "ix_bookings_hold_expiry",
        "bookings",
        ["hold_expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'hold'"),
    )
    op.create_index(
        "uq_bookings_agency_id_reference", "bookings", ["agency_id", "reference"], unique=True
    )
    op.create_index(
        "uq_bookings_channel",
        "bookings",
        ["agency_id", "source", "channel_booking_id"],
        unique=True,
        postgresql_where=sa.text("channel_booking_id IS NOT NULL"),
    )
    op.create_table(
        "occupied_ranges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("booking_id", sa.UUID(), nullable=True),
        sa.Column("block_id", sa.UUID(), nullable=True),
        sa.Column("hold_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["block_id"],
            ["blocks.id"],
            name=op.f("fk_occupied_ranges_block_id_blocks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_occupied_ranges_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["property_id"],
            ["properties.id"],
            name=op.f("fk_occupied_ranges_property_id_properties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_occupied_ranges")),
        sa.UniqueConstraint("block_id", name=op.f("uq_occupied_ranges_block_id")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_occupied_ranges_booking_id")),
    )
    active = ", ".join(f"'{s}'" for s in ACTIVE)
    op.execute(
        f"ALTER TABLE occupied_ranges ADD CONSTRAINT {EXCLUSION_CONSTRAINT} "
        f"EXCLUDE USING gist (property_id WITH =, daterange(start, \"end\", '[)') WITH &&) "
        f"WHERE (status IN ({active}))"
    )
    op.create_index(
        "ix_occupied_ranges_agency_id_property_id_start",
        "occupied_ranges",
        ["agency_id", "property_id", "start"],
    )
    op.execute("CREATE SEQUENCE booking_reference_seq")
    op.execute("GRANT USAGE, SELECT ON SEQUENCE booking_reference_seq TO pms_app")
    # Every change to a booking or block is mirrored into occupied_ranges by the database
    # itself, inside the same statement, so the exclusion constraint guards every write path.
    op.execute(
        """
        CREATE FUNCTION booking_inventory() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            INSERT INTO occupied_ranges
              (agency_id, property_id, start, "end", status, booking_id, hold_expires_at)
            VALUES (NEW.agency_id, NEW.property_id, NEW.check_in, NEW.check_out,
                    NEW.status::text, NEW.id, NEW.hold_expires_at);
          ELSIF (NEW.property_id, NEW.check_in, NEW.check_out, NEW.status, NEW.hold_expires_at)
                IS DISTINCT FROM
                (OLD.property_id, OLD.check_in, OLD.check_out, OLD.status, OLD.hold_expires_at)
          THEN
            UPDATE occupied_ranges
               SET property_id = NEW.property_id, start = NEW.check_in, "end" = NEW.check_out,
                   status = NEW.status::text, hold_expires_at = NEW.hold_expires_at,
                   updated_at = now()
             WHERE booking_id = NEW.id;
          END IF;
          RETURN NULL;
        END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER bookings_inventory AFTER INSERT OR UPDATE ON bookings "
        "FOR EACH ROW EXECUTE FUNCTION booking_inventory()"
    )
    # 'block' is BLOCK_MARKER, written out.
    op.execute(
        """
        CREATE FUNCTION block_inventory() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            INSERT INTO occupied_ranges (agency_id, property_id, start, "end", status, block_id)
            VALUES (NEW.agency_id, NEW.property_id, NEW.start, NEW."end", 'block', NEW.id);
          ELSIF (NEW.property_id, NEW.start, NEW."end") IS DISTINCT FROM
                (OLD.property_id, OLD.start, OLD."end") THEN
            UPDATE occupied_ranges
               SET property_id = NEW.property_id, start = NEW.start, "end" = NEW."end",
                   updated_at = now()
             WHERE block_id = NEW.id;
          END IF;
          RETURN NULL;
        END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER blocks_inventory AFTER INSERT OR UPDATE ON blocks "
        "FOR EACH ROW EXECUTE FUNCTION block_inventory()"
    )
    for table in ("blocks",):
        for stmt in rls.tenant_table(table):
            op.execute(stmt)
    # The hold-expiry job runs across agencies as a declared system job.
    for table in ("bookings", "occupied_ranges"):
        for stmt in rls.tenant_table(table, system_access=True):
            op.execute(stmt)


def downgrade() -> None:
    for table in ("blocks", "bookings", "occupied_ranges"):
        for stmt in rls.drop_tenant_table(table):
            op.execute(stmt)
    op.execute("DROP TRIGGER IF EXISTS blocks_inventory ON blocks")
    op.execute("DROP TRIGGER IF EXISTS bookings_inventory ON bookings")
    op.execute("DROP FUNCTION IF EXISTS block_inventory()")
    op.execute("DROP FUNCTION IF EXISTS booking_inventory()")
    op.execute("DROP SEQUENCE IF EXISTS booking_reference_seq")
    op.drop_table("occupied_ranges")
    op.drop_table("bookings")
    op.drop_table("blocks")
    for enum in ("booking_status", "booking_source", "block_kind"):
        sa.Enum(name=enum).drop(op.get_bind(), checkfirst=True)
