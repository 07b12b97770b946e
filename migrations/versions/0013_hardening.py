"""Hardening: the public engine's maximum stay per agency, who holds what (hashed client and
e-mail, for the active-hold limits), booking references numbered per agency, and audit entries
named by UUID (no global sequence value leaves the API)

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-02 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None

# What 0008 set, restored by the downgrade.
_GLOBAL_REFERENCE_DEFAULT = (
    "'PMS-' || to_char(now(), 'YYYY') || '-' || "
    "lpad(nextval('booking_reference_seq')::text, 6, '0')"
)


def upgrade() -> None:
    op.add_column(
        "agencies",
        sa.Column("public_max_stay_nights", sa.Integer(), server_default="60", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_agencies_public_max_stay_nights"),
        "agencies",
        "public_max_stay_nights BETWEEN 1 AND 366",
    )
    op.add_column("bookings", sa.Column("hold_client_hash", sa.String(length=64)))
    op.add_column("bookings", sa.Column("hold_email_hash", sa.String(length=64)))
    # The active holds of an agency, as the limits count them.
    op.create_index(
        "ix_bookings_active_holds",
        "bookings",
        ["agency_id", "hold_expires_at"],
        postgresql_where=sa.text("status = 'hold'"),
    )

    # Per-agency booking references: one sequence per agency (nextval never waits, unlike a
    # counter row), created with the agency; a BEFORE INSERT trigger fills the reference.
    # SECURITY DEFINER: the app role neither creates sequences nor needs rights on them.
    op.execute(
        """
        CREATE FUNCTION booking_reference_sequence(agency uuid) RETURNS text
        LANGUAGE sql IMMUTABLE AS $$
          SELECT 'booking_ref_' || replace(agency::text, '-', '')
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION agency_reference_sequence() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', booking_reference_sequence(NEW.id));
            RETURN NEW;
          END IF;
          EXECUTE format('DROP SEQUENCE IF EXISTS %I', booking_reference_sequence(OLD.id));
          RETURN OLD;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER agencies_reference_sequence AFTER INSERT OR DELETE ON agencies "
        "FOR EACH ROW EXECUTE FUNCTION agency_reference_sequence()"
    )
    op.execute(
        """
        CREATE FUNCTION booking_reference() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE seq text := booking_reference_sequence(NEW.agency_id);
        BEGIN
          IF NEW.reference IS NULL THEN
            IF to_regclass(seq) IS NULL THEN
              EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', seq);
            END IF;
            NEW.reference := 'PMS-' || to_char(now(), 'YYYY') || '-'
              || lpad(nextval(seq::regclass)::text, 6, '0');
          END IF;
          RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER bookings_reference BEFORE INSERT ON bookings "
        "FOR EACH ROW EXECUTE FUNCTION booking_reference()"
    )
    op.alter_column("bookings", "reference", server_default=None)
    # Existing agencies continue after their highest number, so no reference repeats.
    op.execute(
        """
        DO $$
        DECLARE a record; next_number bigint;
        BEGIN
          FOR a IN SELECT id FROM agencies LOOP
            PERFORM set_config('app.agency_id', a.id::text, true);
            SELECT coalesce(max(substring(reference FROM '([0-9]+)$')::bigint), 0) + 1
              INTO next_number FROM bookings WHERE agency_id = a.id;
            EXECUTE format(
              'CREATE SEQUENCE IF NOT EXISTS %I START %s',
              booking_reference_sequence(a.id), next_number
            );
          END LOOP;
          PERFORM set_config('app.agency_id', '', true);
        END $$
        """
    )
    # Audit entries are named by a UUID in the API; the bigint id (a global sequence) only
    # orders them internally.
    op.add_column(
        "audit_log",
        sa.Column(
            "public_id",
            sa.UUID(),
            server_default=sa.text("gen_random_uuid()"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("audit_log", "public_id")
    op.execute("DROP TRIGGER IF EXISTS bookings_reference ON bookings")
    op.execute("DROP FUNCTION IF EXISTS booking_reference()")
    op.execute("DROP TRIGGER IF EXISTS agencies_reference_sequence ON agencies")
    op.execute("DROP FUNCTION IF EXISTS agency_reference_sequence()")
    op.execute(
        """
        DO $$
        DECLARE a record;
        BEGIN
          FOR a IN SELECT id FROM agencies LOOP
            EXECUTE format('DROP SEQUENCE IF EXISTS %I', booking_reference_sequence(a.id));
          END LOOP;
        END $$
        """
    )
    op.execute("DROP FUNCTION IF EXISTS booking_reference_sequence(uuid)")
    op.alter_column("bookings", "reference", server_default=sa.text(_GLOBAL_REFERENCE_DEFAULT))
    op.drop_index("ix_bookings_active_holds", table_name="bookings")
    op.drop_column("bookings", "hold_email_hash")
    op.drop_column("bookings", "hold_client_hash")
    op.drop_constraint(op.f("ck_agencies_public_max_stay_nights"), "agencies", type_="check")
    op.drop_column("agencies", "public_max_stay_nights")
