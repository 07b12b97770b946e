"""Nights a new stay takes, closed in its property's ARI rows by a function the statement that
writes the stay calls: one round trip less per booking.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 21:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# A stay the inventory guard has just admitted takes nights no other stay occupied and changes
# no rule, so the only change to the stored ARI rows is that its open nights close. The
# property's plans are locked first, in id order (as every recomputation locks them). Why a
# function: at READ COMMITTED each statement of a VOLATILE function takes a new snapshot, so
# the UPDATE that follows the lock sees a recomputation of the same plan that committed while
# this one waited for the lock. A data-modifying CTE in the stay's own statement would read
# the snapshot taken before the wait and could miss rows that recomputation wrote. The function
# announces each plan's changed span with ari.changed, as a recomputation would, and returns
# how many plans it locked. SECURITY INVOKER: row-level security applies to what it writes.
_CREATE = """
CREATE FUNCTION pms_nights_taken(p_property uuid, p_start date, p_end date, p_request_id text)
RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    locked integer;
BEGIN
    PERFORM 1 FROM rate_plans WHERE property_id = p_property ORDER BY id FOR UPDATE;
    GET DIAGNOSTICS locked = ROW_COUNT;
    WITH plans AS (
        SELECT id, agency_id FROM rate_plans WHERE property_id = p_property
    ), taken AS (
        UPDATE ari_days SET available = false
         WHERE rate_plan_id IN (SELECT id FROM plans)
           AND day >= p_start AND day < p_end AND available
        RETURNING rate_plan_id, day
    )
    INSERT INTO outbox_events (agency_id, event_type, aggregate_type, aggregate_id, payload,
                               request_id)
    SELECT p.agency_id, 'ari.changed', 'rate_plan', p.id::text,
           jsonb_build_object(
               'property_id', p_property::text, 'rate_plan_id', p.id::text,
               'start', to_char(min(t.day), 'YYYY-MM-DD'),
               'end', to_char(max(t.day) + 1, 'YYYY-MM-DD')),
           p_request_id
      FROM taken t JOIN plans p ON p.id = t.rate_plan_id
     GROUP BY p.id, p.agency_id
     ORDER BY p.id;
    RETURN locked;
END
$$
"""


def upgrade() -> None:
    op.execute(_CREATE)


def downgrade() -> None:
    op.execute("DROP FUNCTION pms_nights_taken(uuid, date, date, text)")
