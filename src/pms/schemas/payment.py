"""The team's view of payments: what a guest paid (or was asked to pay) and what went back."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from pms.models.payment import PaymentMethod, PaymentProviderName, PaymentStatus
from pms.schemas.rates import MoneyOut


class PaymentOut(BaseModel):
    id: uuid.UUID
    booking_id: uuid.UUID
    booking_reference: str
    property_id: uuid.UUID
    provider: PaymentProviderName
    method: PaymentMethod
    status: PaymentStatus
    amount: MoneyOut
    refunded: MoneyOut
    failure_reason: str | None
    created_at: datetime
    succeeded_at: datetime | None
    refunded_at: datetime | None
