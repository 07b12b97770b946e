"""The refund a cancellation gave: the policy's amount, or one a manager chose

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("bookings", sa.Column("refund_minor", sa.Integer(), nullable=True))
    op.add_column("bookings", sa.Column("refund_currency", sa.String(length=3), nullable=True))
    op.create_check_constraint(
        op.f("ck_bookings_refund"),
        "bookings",
        "(refund_minor IS NULL) = (refund_currency IS NULL) AND refund_minor >= 0",
    )
    # Guest cancellations stored their refund in the quote document until now.
    op.execute(
        "UPDATE bookings SET refund_minor = (quote->>'refund_minor')::integer, "
        "refund_currency = quote->'total'->>'currency' "
        "WHERE quote ? 'refund_minor' AND quote->'total' ? 'currency'"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_bookings_refund"), "bookings", type_="check")
    op.drop_column("bookings", "refund_currency")
    op.drop_column("bookings", "refund_minor")
