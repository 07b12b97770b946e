"""Row-level security DDL for the migrations in versions/, one definition for every tenant table.

Frozen with the revisions that use it: they must build tomorrow what they built when they were
written, so nothing here changes. A new policy shape is a new function used by a new revision.
It imports nothing of ``pms`` (tests/integration/test_migrations.py checks)."""

from __future__ import annotations

FUNCTIONS = [
    """
    CREATE OR REPLACE FUNCTION pms_current_agency() RETURNS uuid
    LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('app.agency_id', true), '')::uuid $$
    """,
    """
    CREATE OR REPLACE FUNCTION pms_current_user() RETURNS uuid
    LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$
    """,
]

DROP_FUNCTIONS = [
    "DROP FUNCTION IF EXISTS pms_current_agency()",
    "DROP FUNCTION IF EXISTS pms_current_user()",
]


SYSTEM = "current_setting('app.system', true) = 'on'"


def tenant_table(
    table: str, *, also_visible_if: str | None = None, system_access: bool = False
) -> list[str]:
    """Enable and force RLS: rows are visible and writable only for the transaction's agency.
    ``also_visible_if`` widens reading only (e.g. a user's own memberships in other agencies);
    ``system_access`` lets a transaction that declared itself a system job (the outbox relay,
    via ``app.system``) see every agency's rows."""
    using = "agency_id = pms_current_agency()"
    if also_visible_if:
        using = f"({using}) OR ({also_visible_if})"
    if system_access:
        using = f"({using}) OR ({SYSTEM})"
    write = "agency_id = pms_current_agency()"
    if system_access:
        write = f"({write}) OR ({SYSTEM})"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_tenant_read ON {table} FOR SELECT USING ({using})",
        f"CREATE POLICY {table}_tenant_insert ON {table} FOR INSERT WITH CHECK ({write})",
        f"CREATE POLICY {table}_tenant_update ON {table} FOR UPDATE "
        f"USING ({write}) WITH CHECK ({write})",
        f"CREATE POLICY {table}_tenant_delete ON {table} FOR DELETE USING ({write})",
    ]


def drop_tenant_table(table: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS {table}_tenant_{p} ON {table}"
        for p in ("read", "insert", "update", "delete")
    ] + [f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"]
