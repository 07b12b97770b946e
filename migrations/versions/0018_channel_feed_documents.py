"""Feed documents hosted for pull platforms (Vrbo): per mapped listing and document kind, the
hash of what the document last said and when it changed (the index's lastUpdatedDate), and the
fingerprint of the rows it was built from (an unchanged pull rebuilds nothing)

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-02 10:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None

_T = "channel_feed_documents"
_SYSTEM = "current_setting('app.system', true) = 'on'"
_USING = f"(agency_id = pms_current_agency()) OR ({_SYSTEM})"


def upgrade() -> None:
    op.create_table(
        _T,
        sa.Column("mapping_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("agency_id", sa.UUID(), nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inputs", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("mapping_id", "kind", name=f"pk_{_T}"),
        sa.ForeignKeyConstraint(
            ["mapping_id"],
            ["channel_mappings.id"],
            name=f"fk_{_T}_mapping_id_channel_mappings",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=f"fk_{_T}_agency_id_agencies", ondelete="CASCADE"
        ),
    )
    for sql in (
        f"ALTER TABLE {_T} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {_T} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {_T}_tenant_read ON {_T} FOR SELECT USING ({_USING})",
        f"CREATE POLICY {_T}_tenant_insert ON {_T} FOR INSERT WITH CHECK ({_USING})",
        f"CREATE POLICY {_T}_tenant_update ON {_T} FOR UPDATE "
        f"USING ({_USING}) WITH CHECK ({_USING})",
        f"CREATE POLICY {_T}_tenant_delete ON {_T} FOR DELETE USING ({_USING})",
    ):
        op.execute(sql)


def downgrade() -> None:
    op.drop_table(_T)
