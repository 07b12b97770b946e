"""Booking statuses and their transitions: the status table of domain.md, in one place.

``OCCUPYING`` is the single list of statuses that hold nights; the database's exclusion
constraint is built from it (see the migration), and a test proves the two match."""

from __future__ import annotations

from pms.models.booking import BookingStatus as BookingStatus

S = BookingStatus

OCCUPYING: frozenset[BookingStatus] = frozenset({S.HOLD, S.CONFIRMED, S.CHECKED_IN, S.CHECKED_OUT})

# What an occupied range in the inventory table is when it comes from a block, not a booking.
BLOCK_MARKER = "block"

# The status values for which an inventory row takes part in the exclusion constraint.
INVENTORY_ACTIVE: tuple[str, ...] = (*sorted(s.value for s in OCCUPYING), BLOCK_MARKER)

TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    S.INQUIRY: frozenset({S.REQUESTED, S.HOLD, S.CONFIRMED, S.DECLINED, S.CANCELLED}),
    S.REQUESTED: frozenset({S.CONFIRMED, S.DECLINED, S.CANCELLED, S.EXPIRED}),
    S.HOLD: frozenset({S.CONFIRMED, S.EXPIRED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.CHECKED_IN, S.CANCELLED, S.NO_SHOW}),
    S.CHECKED_IN: frozenset({S.CHECKED_OUT}),
    S.CHECKED_OUT: frozenset(),
    S.CONFLICT: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.CANCELLED: frozenset(),
    S.DECLINED: frozenset(),
    S.EXPIRED: frozenset(),
    S.NO_SHOW: frozenset(),
}

# Statuses a booking may be created in directly.
CREATABLE: frozenset[BookingStatus] = frozenset(
    {S.INQUIRY, S.REQUESTED, S.HOLD, S.CONFIRMED, S.CONFLICT}
)


def can_transition(current: BookingStatus, target: BookingStatus) -> bool:
    return target in TRANSITIONS[current]


def occupies(status: BookingStatus) -> bool:
    return status in OCCUPYING
