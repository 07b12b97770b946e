"""What one flush carries: the dirty listings of one platform account.

An account is a connection (an Airbnb host, a Vrbo advertiser), except on platforms whose
connections are hotels of one account (``adapters.shares_account``: Booking.com's machine
account, an EQC account). There every connection of the agency on that platform is flushed in
one task: one lock, one debounce window and one round for all of them, while credentials,
circuit breaker, rate limits, health and the sync log stay per connection.

The agency is always part of the scope: connections of different agencies are never flushed
together, and a round reads only its agency's rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pms.channel.adapters import shares_account


@dataclass(frozen=True)
class FlushScope:
    platform: str
    agency_id: uuid.UUID
    connection_id: uuid.UUID | None  # None: every connection of the agency on the platform

    @property
    def key(self) -> str:
        """The account's key for its lock and its debounce window (a connection's own id,
        as before, where a connection is an account)."""
        if self.connection_id is None:
            return f"{self.platform}:{self.agency_id}"
        return str(self.connection_id)


def scope_of(platform: str, agency_id: uuid.UUID, connection_id: uuid.UUID) -> FlushScope:
    """The account a connection belongs to."""
    return FlushScope(platform, agency_id, None if shares_account(platform) else connection_id)


def one_per_account(
    connections: list[tuple[uuid.UUID, str, uuid.UUID]],
) -> list[tuple[uuid.UUID, str, uuid.UUID]]:
    """One (connection, platform, agency) per account: a flush of any of its connections
    carries them all."""
    out: dict[str, tuple[uuid.UUID, str, uuid.UUID]] = {}
    for connection_id, platform, agency_id in connections:
        out.setdefault(
            scope_of(platform, agency_id, connection_id).key, (connection_id, platform, agency_id)
        )
    return list(out.values())
