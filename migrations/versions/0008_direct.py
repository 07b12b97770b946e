"""Direct Booking Engine: property photos, amenities and instant book, agency public origins and
hold length, and holds without a guest yet (with a hold token)

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-26 09:22:46.343079
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from pms.models import rls

# The reference default as this revision set it (written out: a migration never imports live
# code, which changes after it). 0013 replaces it with per-agency numbering.
REFERENCE_DEFAULT = (
    "'PMS-' || to_char(now(), 'YYYY') || '-' || "
    "lpad(nextval('booking_reference_seq')::text, 6, '0')"
)
revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "property_photos",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("property_id", sa.UUID(), nullable=False),
        sa.Column("content_type", sa.String(length=30), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("caption", sa.String(length=300), nullable=True),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_property_photos_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["property_id"],
            ["properties.id"],
            name=op.f("fk_property_photos_property_id_properties"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_photos")),
    )
    op.create_index(
        "ix_property_photos_property_id_position",
        "property_photos",
        ["property_id", "position"],
        unique=False,
    )
    op.add_column(
        "agencies",
        sa.Column(
            "public_origins",
            postgresql.ARRAY(sa.String(length=200)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.add_column(
        "agencies", sa.Column("hold_minutes", sa.Integer(), server_default="15", nullable=False)
    )
    op.add_column("bookings", sa.Column("hold_token_hash", sa.String(length=64), nullable=True))
    op.alter_column("bookings", "guest_id", existing_type=sa.UUID(), nullable=True)
    op.create_unique_constraint(
        op.f("uq_bookings_hold_token_hash"), "bookings", ["hold_token_hash"]
    )
    op.add_column(
        "properties", sa.Column("instant_book", sa.Boolean(), server_default="true", nullable=False)
    )
    op.add_column(
        "properties",
        sa.Column(
            "amenities", postgresql.ARRAY(sa.String(length=50)), server_default="{}", nullable=False
        ),
    )
    op.create_check_constraint(
        "guest", "bookings", "guest_id IS NOT NULL OR status IN ('hold', 'expired', 'cancelled')"
    )
    for stmt in rls.tenant_table("property_photos"):
        op.execute(stmt)
    op.alter_column("bookings", "reference", server_default=sa.text(REFERENCE_DEFAULT))


def downgrade() -> None:
    for stmt in rls.drop_tenant_table("property_photos"):
        op.execute(stmt)
    op.alter_column("bookings", "reference", server_default=None)
    op.drop_constraint(op.f("ck_bookings_guest"), "bookings", type_="check")
    op.drop_column("properties", "amenities")
    op.drop_column("properties", "instant_book")
    op.drop_constraint(op.f("uq_bookings_hold_token_hash"), "bookings", type_="unique")
    op.alter_column("bookings", "guest_id", existing_type=sa.UUID(), nullable=False)
    op.drop_column("bookings", "hold_token_hash")
    op.drop_column("agencies", "hold_minutes")
    op.drop_column("agencies", "public_origins")
    op.drop_index("ix_property_photos_property_id_position", table_name="property_photos")
    op.drop_table("property_photos")
