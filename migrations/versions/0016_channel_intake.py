"""Webhook intake in one statement: a function that declares the statement a system job,
refuses a signature seen within the replay window, stores the inbox row and, only if it is
new, the outbox event asking for it to be applied

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 06:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Called outside any explicit transaction (autocommit): the statement is its own transaction,
# so the settings made "local" here end with it and never reach the pooled connection's next
# user. SECURITY INVOKER (the default): the tables' row-level security still applies.
# The replay window: a signature digest is remembered until it expires (the scheduler's sweep
# deletes expired ones); the same digest again before then is a replay: the function returns -1.
_SEEN = """
CREATE TABLE channel_webhook_seen (
    digest text PRIMARY KEY,
    expires_at timestamptz NOT NULL
)
"""
_CREATE = """
CREATE FUNCTION pms_channel_intake(
    p_platform text,
    p_message_id text,
    p_event_type text,
    p_body text,
    p_request_id text,
    p_event text,
    p_digest text,
    p_window interval
) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    new_id bigint;
BEGIN
    PERFORM set_config('app.system', 'on', true), set_config('app.agency_id', '', true);
    INSERT INTO channel_webhook_seen AS seen (digest, expires_at)
    VALUES (p_digest, now() + p_window)
    ON CONFLICT (digest) DO UPDATE SET expires_at = excluded.expires_at
        WHERE seen.expires_at < now();
    IF NOT FOUND THEN
        RETURN -1;
    END IF;
    INSERT INTO channel_inbox (platform, message_id, event_type, body)
    VALUES (p_platform, p_message_id, p_event_type, p_body)
    ON CONFLICT (platform, message_id) DO NOTHING
    RETURNING id INTO new_id;
    IF new_id IS NOT NULL THEN
        INSERT INTO outbox_events (event_type, aggregate_type, aggregate_id, payload, request_id)
        VALUES (
            p_event,
            'channel_inbox',
            new_id::text,
            jsonb_build_object('inbox_id', new_id, 'platform', p_platform),
            p_request_id
        );
    END IF;
    RETURN new_id;
END
$$
"""


def upgrade() -> None:
    op.execute(_SEEN)
    op.execute(_CREATE)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION pms_channel_intake(text, text, text, text, text, text, text, interval)"
    )
    op.execute("DROP TABLE channel_webhook_seen")
