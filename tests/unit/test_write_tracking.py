"""Which tables a statement writes: what decides which cached reads a commit invalidates."""

from __future__ import annotations

import pytest

from pms.db import written_tables


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ("SELECT * FROM bookings FOR UPDATE", set()),
        ("select set_config('app.agency_id', $1, true)", set()),
        ("INSERT INTO bookings (id) VALUES ($1) RETURNING bookings.id", {"bookings"}),
        ('UPDATE "properties" SET name=$1 WHERE id=$2', {"properties"}),
        ("DELETE FROM blocks WHERE id = $1", {"blocks"}),
        (
            "INSERT INTO ari_days (day) SELECT * FROM unnest($1) "
            "ON CONFLICT (rate_plan_id, day) DO UPDATE SET available = excluded.available",
            {"ari_days"},
        ),
        (
            "WITH b AS (INSERT INTO bookings (id) VALUES ($1) RETURNING id), "
            "u AS (UPDATE guests SET n = 1 RETURNING id) "
            "INSERT INTO outbox_events (id) SELECT id FROM b",
            {"bookings", "guests", "outbox_events"},
        ),
        ("WITH x AS (SELECT 1) SELECT * FROM x", set()),
    ],
)
def test_written_tables(sql: str, tables: set[str]) -> None:
    assert written_tables(sql) == tables
