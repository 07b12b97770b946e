"""Webhook intake in two inserts instead of three: the replay window's memory moves onto the
inbox row (the signatures every delivery of the message was accepted with), so a new message
costs the inbox row and its outbox event, and the table of seen signatures goes

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 16:45:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# Why the inbox row can hold the memory: a signature covers the body, and the message id is
# part of what it covers (adapters verify it; ``Adapter.verify_webhook``), so a replayed
# signature always names a message already stored. Every signature a message was accepted with
# is kept on its row; the same one again is a replay (-1). Nothing needs to expire: a replay
# older than the timestamp tolerance is refused as stale before it gets here.
# Called outside any explicit transaction (autocommit): the statement is its own transaction,
# so the settings made "local" here end with it. SECURITY INVOKER: row-level security applies.
_CREATE = """
CREATE FUNCTION pms_channel_intake(
    p_platform text,
    p_message_id text,
    p_event_type text,
    p_body text,
    p_request_id text,
    p_event text,
    p_digest text
) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    new_id bigint;
BEGIN
    PERFORM set_config('app.system', 'on', true), set_config('app.agency_id', '', true);
    INSERT INTO channel_inbox (platform, message_id, event_type, body, signatures)
    VALUES (p_platform, p_message_id, p_event_type, p_body, ARRAY[p_digest])
    ON CONFLICT (platform, message_id) DO NOTHING
    RETURNING id INTO new_id;
    IF new_id IS NULL THEN
        -- Stored before: a new delivery (a signature not seen yet) is a duplicate, the same
        -- signature again a replay.
        UPDATE channel_inbox SET signatures = signatures || p_digest
         WHERE platform = p_platform AND message_id = p_message_id
           AND NOT (p_digest = ANY (signatures));
        IF NOT FOUND THEN
            RETURN -1;
        END IF;
        RETURN NULL;
    END IF;
    INSERT INTO outbox_events (event_type, aggregate_type, aggregate_id, payload, request_id)
    VALUES (
        p_event,
        'channel_inbox',
        new_id::text,
        jsonb_build_object('inbox_id', new_id, 'platform', p_platform),
        p_request_id
    );
    RETURN new_id;
END
$$
"""

# Migration 0016's, restored by the downgrade.
_OLD = """
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
    op.execute("ALTER TABLE channel_inbox ADD COLUMN signatures text[] NOT NULL DEFAULT '{}'")
    op.execute(
        "DROP FUNCTION pms_channel_intake(text, text, text, text, text, text, text, interval)"
    )
    op.execute(_CREATE)
    op.execute("DROP TABLE channel_webhook_seen")


def downgrade() -> None:
    op.execute(
        "CREATE TABLE channel_webhook_seen (digest text PRIMARY KEY, expires_at timestamptz "
        "NOT NULL)"
    )
    op.execute("DROP FUNCTION pms_channel_intake(text, text, text, text, text, text, text)")
    op.execute(_OLD)
    op.execute("ALTER TABLE channel_inbox DROP COLUMN signatures")
