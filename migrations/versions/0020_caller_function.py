"""The caller of a request in one round trip: the user behind an app session (or any user, with
no session given) and the user's memberships (in the agency the request names, if it names
one), with the transaction scoped to them for row-level security.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 18:10:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# Why a function: memberships are visible only to their user's scope (``app.user_id``), and a
# statement's row-level security reads the scope when the statement starts, so the statement
# that sets the scope cannot read the memberships it opens. A function runs its statements one
# after another, each seeing the settings of the one before.
#
# The scope is set before the session is checked: a caller whose session has ended, or whose
# user is disabled, is refused (401) and the transaction rolled back with its settings. The
# agency scope is set only when exactly one membership matched; with several, the request is
# refused until it names one. SECURITY INVOKER: row-level security applies to what it reads.
_CREATE = """
CREATE FUNCTION pms_caller(p_user uuid, p_session uuid, p_agency uuid)
RETURNS TABLE (
    email text,
    full_name text,
    is_active boolean,
    revoked_at timestamptz,
    expires_at timestamptz,
    agency_ids uuid[],
    roles text[]
)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    found_agencies uuid[];
    found_roles text[];
BEGIN
    PERFORM set_config('app.user_id', p_user::text, true);
    SELECT coalesce(array_agg(m.agency_id ORDER BY m.agency_id), '{}'),
           coalesce(array_agg(m.role::text ORDER BY m.agency_id), '{}')
      INTO found_agencies, found_roles
      FROM memberships m
     WHERE m.user_id = p_user AND (p_agency IS NULL OR m.agency_id = p_agency);
    IF cardinality(found_agencies) = 1 THEN
        PERFORM set_config('app.agency_id', found_agencies[1]::text, true);
    END IF;
    -- Without an app session (a Supabase token, or an actor resolved outside a request):
    -- the user's row with no session columns.
    RETURN QUERY
        SELECT u.email::text, u.full_name::text, u.is_active, s.revoked_at, s.expires_at,
               found_agencies, found_roles
          FROM users u LEFT JOIN auth_sessions s ON s.user_id = u.id AND s.id = p_session
         WHERE u.id = p_user AND (p_session IS NULL OR s.id IS NOT NULL);
END
$$
"""


def upgrade() -> None:
    op.execute(_CREATE)


def downgrade() -> None:
    op.execute("DROP FUNCTION pms_caller(uuid, uuid, uuid)")
