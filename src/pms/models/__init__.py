"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from pms.models.agency import Agency, Invitation, Membership
from pms.models.alert import Alert
from pms.models.audit import AuditEntry
from pms.models.base import Base
from pms.models.block import Block, BlockKind
from pms.models.booking import Booking, BookingSource
from pms.models.email import EmailStatus, OutboxEmail
from pms.models.guest import Guest
from pms.models.ical import FeedSource, IcalConflict, IcalExport, IcalFeed
from pms.models.idempotency import IdempotencyRecord
from pms.models.inventory import OccupiedRange
from pms.models.outbox import OutboxEvent
from pms.models.payment import (
    Payment,
    PaymentMethod,
    PaymentProviderName,
    PaymentStatus,
    StripeEvent,
)
from pms.models.photo import PropertyPhoto
from pms.models.property import Property
from pms.models.rates import (
    AriDay,
    CancellationPolicy,
    Fee,
    PropertyFee,
    PropertyPricing,
    RateDayOverride,
    RatePlan,
    RateSeason,
    TaxClass,
    VisitorTaxLocation,
)
from pms.models.user import AuthSession, User

__all__ = [
    "Agency",
    "Alert",
    "AriDay",
    "AuditEntry",
    "AuthSession",
    "Base",
    "Block",
    "BlockKind",
    "Booking",
    "BookingSource",
    "CancellationPolicy",
    "EmailStatus",
    "Fee",
    "FeedSource",
    "Guest",
    "IcalConflict",
    "IcalExport",
    "IcalFeed",
    "IdempotencyRecord",
    "Invitation",
    "Membership",
    "OccupiedRange",
    "OutboxEmail",
    "OutboxEvent",
    "Payment",
    "PaymentMethod",
    "PaymentProviderName",
    "PaymentStatus",
    "Property",
    "PropertyFee",
    "PropertyPhoto",
    "PropertyPricing",
    "RateDayOverride",
    "RatePlan",
    "RateSeason",
    "StripeEvent",
    "TaxClass",
    "User",
    "VisitorTaxLocation",
]
