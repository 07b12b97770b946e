"""The payment provider interface and the values that cross it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pms.core.errors import DomainError, Unprocessable
from pms.core.money import Money
from pms.models.payment import CaptureMethod, PaymentMethod, PaymentProviderName, PaymentStatus


class PaymentProviderError(DomainError):
    """The provider refused or could not be reached; the detail is the provider's own message
    (never our credentials)."""

    status = 502
    code = "payment-provider-error"
    title = "The payment provider did not accept the request"


class MethodNotSupported(Unprocessable):
    pass


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    agency_id: uuid.UUID
    booking_id: uuid.UUID
    booking_reference: str
    amount: Money
    method: PaymentMethod
    description: str | None = None
    # MANUAL: only authorise the card now; the booking flow captures or releases it later.
    capture_method: CaptureMethod = CaptureMethod.AUTOMATIC


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    """What a provider created: its reference, the status, and what the guest's browser needs to
    complete the payment (a Stripe client secret, or bank transfer instructions)."""

    provider_ref: str
    status: PaymentStatus
    client: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    provider_ref: str | None
    amount: Money
    # "pending": the money goes back later or by hand (offline; some Stripe methods).
    status: Literal["succeeded", "pending"]


@dataclass(frozen=True, slots=True)
class RefundTarget:
    """The payment being refunded, as a provider sees it."""

    payment_id: uuid.UUID
    provider_ref: str
    booking_id: uuid.UUID


class PaymentProvider(Protocol):
    name: PaymentProviderName
    methods: frozenset[PaymentMethod]

    async def create_payment(
        self, request: PaymentRequest, *, idempotency_key: str
    ) -> ProviderPayment: ...

    async def refund(
        self, target: RefundTarget, amount: Money, *, idempotency_key: str
    ) -> ProviderRefund: ...

    def verify_webhook(self, payload: bytes, headers: Mapping[str, str]) -> Any:
        """Verify and parse an incoming webhook, or raise ``InvalidWebhook``."""
        ...
