"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from pms.models.agency import Agency, Invitation, Membership
from pms.models.alert import Alert
from pms.models.audit import AuditEntry
from pms.models.base import Base
from pms.models.block import Block, BlockKind
from pms.models.booking import Booking, BookingSource
from pms.models.guest import Guest
from pms.models.ical import FeedSource, IcalConflict, IcalExport, IcalFeed
from pms.models.idempotency import IdempotencyRecord
from pms.models.inventory import OccupiedRange
from pms.models.outbox import OutboxEvent
from pms.models.property import Property
from pms.models.user import AuthSession, User

__all__ = [
    "Agency",
    "Alert",
    "AuditEntry",
    "AuthSession",
    "Base",
    "Block",
    "BlockKind",
    "Booking",
    "BookingSource",
    "FeedSource",
    "Guest",
    "IcalConflict",
    "IcalExport",
    "IcalFeed",
    "IdempotencyRecord",
    "Invitation",
    "Membership",
    "OccupiedRange",
    "OutboxEvent",
    "Property",
    "User",
]
