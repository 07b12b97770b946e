"""Hardening: the public engine's maximum stay per agency, who holds what (hashed client and
e-mail, for the active-hold limits)

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-02 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0009"
branch_labels = None
depends_on = None


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


def downgrade() -> None:
    op.drop_index("ix_bookings_active_holds", table_name="bookings")
    op.drop_column("bookings", "hold_email_hash")
    op.drop_column("bookings", "hold_client_hash")
    op.drop_constraint(op.f("ck_agencies_public_max_stay_nights"), "agencies", type_="check")
    op.drop_column("agencies", "public_max_stay_nights")
