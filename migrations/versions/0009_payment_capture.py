"""Card authorisations for requests to book: payments that are authorised and captured later
(or released), and the request that took a hold's place

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_OLD_STATUSES = ("pending", "succeeded", "failed", "partially_refunded", "refunded")


def upgrade() -> None:
    # New enum values cannot be used in the transaction that adds them; nothing here uses them.
    op.execute("ALTER TYPE payment_status ADD VALUE IF NOT EXISTS 'authorized' AFTER 'pending'")
    op.execute("ALTER TYPE payment_status ADD VALUE IF NOT EXISTS 'canceled'")
    op.add_column(
        "payments",
        sa.Column(
            "capture_method", sa.String(length=10), server_default="automatic", nullable=False
        ),
    )
    op.add_column("payments", sa.Column("authorized_at", sa.DateTime(timezone=True)))
    op.add_column("payments", sa.Column("canceled_at", sa.DateTime(timezone=True)))
    op.create_check_constraint(
        op.f("ck_payments_capture_method"),
        "payments",
        "capture_method IN ('automatic', 'manual')",
    )
    op.add_column("bookings", sa.Column("replaced_by_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_bookings_replaced_by_id_bookings"),
        "bookings",
        "bookings",
        ["replaced_by_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_bookings_replaced_by_id_bookings"), "bookings", type_="foreignkey")
    op.drop_column("bookings", "replaced_by_id")
    op.drop_constraint(op.f("ck_payments_capture_method"), "payments", type_="check")
    op.drop_column("payments", "canceled_at")
    op.drop_column("payments", "authorized_at")
    op.drop_column("payments", "capture_method")
    # PostgreSQL cannot drop an enum value: map the new ones to their nearest old meaning
    # (an open authorisation is still pending, a released one failed) and rebuild the type.
    op.execute(
        "UPDATE payments SET status = CASE status::text WHEN 'authorized' THEN 'pending' "
        "ELSE 'failed' END::payment_status WHERE status::text IN ('authorized', 'canceled')"
    )
    op.execute("ALTER TYPE payment_status RENAME TO payment_status_0009")
    values = ", ".join(f"'{v}'" for v in _OLD_STATUSES)
    op.execute(f"CREATE TYPE payment_status AS ENUM ({values})")
    op.execute(
        "ALTER TABLE payments ALTER COLUMN status TYPE payment_status "
        "USING status::text::payment_status"
    )
    op.execute("DROP TYPE payment_status_0009")
