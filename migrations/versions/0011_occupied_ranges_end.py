"""An index on the active occupied ranges by property and end date, so "what overlaps this
window" reads only the ranges that end after the window starts, however many past stays a
property has

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 03:20:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Written out (a migration imports no live code): the inventory statuses of the exclusion
# constraint when this revision was written.
_ACTIVE = ("checked_in", "checked_out", "confirmed", "hold", "block")


def upgrade() -> None:
    active = ", ".join(f"'{s}'" for s in _ACTIVE)
    op.execute(
        'CREATE INDEX ix_occupied_ranges_property_id_end ON occupied_ranges (property_id, "end") '
        f"WHERE status IN ({active})"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_occupied_ranges_property_id_end")
