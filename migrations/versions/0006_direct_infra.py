"""Direct Booking Engine infrastructure: the e-mail outbox, payments and processed Stripe events.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import rls_policies as rls
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _timestamp(name: str, *, nullable: bool = False, default: bool = True) -> sa.Column[object]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        server_default=sa.text("now()") if default else None,
        nullable=nullable,
    )


def upgrade() -> None:
    email_status = sa.Enum("queued", "sent", "failed", name="email_status")
    op.create_table(
        "email_outbox",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("booking_id", sa.UUID(), nullable=True),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("template", sa.String(length=60), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", email_status, server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _timestamp("next_attempt_at"),
        _timestamp("created_at"),
        _timestamp("sent_at", nullable=True, default=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_email_outbox_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_outbox")),
    )
    op.create_index(
        "ix_email_outbox_due",
        "email_outbox",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.create_index(
        "ix_email_outbox_agency_id_created_at", "email_outbox", ["agency_id", "created_at"]
    )
    op.create_index("ix_email_outbox_booking_id", "email_outbox", ["booking_id"])

    op.create_table(
        "payments",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("booking_id", sa.UUID(), nullable=False),
        sa.Column(
            "provider", sa.Enum("offline", "stripe", name="payment_provider"), nullable=False
        ),
        sa.Column(
            "method",
            sa.Enum("card", "bank_transfer", "pay_on_arrival", name="payment_method"),
            nullable=False,
        ),
        sa.Column("provider_ref", sa.String(length=255), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "succeeded",
                "failed",
                "partially_refunded",
                "refunded",
                name="payment_status",
            ),
            nullable=False,
        ),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        _timestamp("succeeded_at", nullable=True, default=False),
        _timestamp("failed_at", nullable=True, default=False),
        _timestamp("refunded_at", nullable=True, default=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint(
            "refunded_minor BETWEEN 0 AND amount_minor",
            name=op.f("ck_payments_refund_within_amount"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_payments_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_payments_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    op.create_index(
        "uq_payments_provider_provider_ref", "payments", ["provider", "provider_ref"], unique=True
    )
    op.create_index("ix_payments_agency_id_booking_id", "payments", ["agency_id", "booking_id"])

    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        _timestamp("received_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
    )

    # The e-mail sender and the Stripe webhook run as declared system jobs across agencies.
    for table in ("email_outbox", "payments"):
        for stmt in rls.tenant_table(table, system_access=True):
            op.execute(stmt)


def downgrade() -> None:
    for table in ("email_outbox", "payments"):
        for stmt in rls.drop_tenant_table(table):
            op.execute(stmt)
    op.drop_table("stripe_events")
    op.drop_table("payments")
    op.drop_table("email_outbox")
    for enum in ("email_status", "payment_provider", "payment_method", "payment_status"):
        sa.Enum(name=enum).drop(op.get_bind(), checkfirst=True)
