"""The column lists that services writing their own INSERTs use are the keys of the values
`outbox.event` and `audit.entry` give, in order: a key added to one must reach the other."""

from __future__ import annotations

import uuid

from pms.core import audit, outbox


def test_event_columns_are_the_keys_of_an_outbox_event() -> None:
    values = outbox.event(
        agency_id=uuid.uuid4(),
        event_type="ari.changed",
        aggregate_type="rate_plan",
        aggregate_id=uuid.uuid4(),
        payload={},
    )
    assert tuple(values) == outbox.EVENT_COLUMNS


def test_entry_columns_are_the_keys_of_an_audit_entry() -> None:
    values = audit.entry(
        None,
        agency_id=uuid.uuid4(),
        entity_type="rate_plan",
        entity_id=uuid.uuid4(),
        action="days_updated",
        after={"ranges": []},
    )
    assert tuple(values) == audit.ENTRY_COLUMNS
