"""Bookings: a guest's stay at a property, whatever channel it came from. Reading them
(``queries``), creating one (``create``) and changing it (``lifecycle``); every write passes the
inventory guard and records its outbox events and audit entry in the same transaction.

What follows a change outside Core (guest e-mails, card payments, channels) is called
explicitly by the flow that made the change, never registered here."""

from pms.core.bookings.cancellation import Cancelled, cancel, quoted_total, refund_due
from pms.core.bookings.create import DEFAULT_HOLD_MINUTES, create
from pms.core.bookings.lifecycle import (
    ACTIONS,
    InvalidTransition,
    StaleVersion,
    Transitioned,
    transition,
    update,
)
from pms.core.bookings.party import guest_for
from pms.core.bookings.queries import SORTABLE, get, list_, visible

__all__ = [
    "ACTIONS",
    "DEFAULT_HOLD_MINUTES",
    "SORTABLE",
    "Cancelled",
    "InvalidTransition",
    "StaleVersion",
    "Transitioned",
    "cancel",
    "create",
    "get",
    "guest_for",
    "list_",
    "quoted_total",
    "refund_due",
    "transition",
    "update",
    "visible",
]
