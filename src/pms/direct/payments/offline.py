"""Offline payments: bank transfer or payment on arrival. No external calls: the payment is
recorded as expected, staff mark it received, and refunds are paid back by hand."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from pms.core.money import Money
from pms.direct.payments.base import (
    PaymentRequest,
    ProviderPayment,
    ProviderRefund,
    RefundTarget,
)
from pms.direct.payments.signature import InvalidWebhook
from pms.models.payment import PaymentMethod, PaymentProviderName, PaymentStatus


class OfflineProvider:
    name = PaymentProviderName.OFFLINE
    methods = frozenset({PaymentMethod.BANK_TRANSFER, PaymentMethod.PAY_ON_ARRIVAL})

    async def create_payment(
        self, request: PaymentRequest, *, idempotency_key: str
    ) -> ProviderPayment:
        # Derived from the key: asking twice yields the same reference, hence the same row.
        ref = "off_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        return ProviderPayment(
            provider_ref=ref,
            status=PaymentStatus.PENDING,
            client={
                "provider": self.name.value,
                "method": request.method.value,
                "amount_minor": request.amount.amount_minor,
                "currency": request.amount.currency,
                # The transfer's reference text, so staff can match the incoming money.
                "reference": request.booking_reference,
            },
        )

    async def refund(
        self, target: RefundTarget, amount: Money, *, idempotency_key: str
    ) -> ProviderRefund:
        return ProviderRefund(provider_ref=None, amount=amount, status="pending")

    def verify_webhook(self, payload: bytes, headers: Mapping[str, str]) -> Any:
        raise InvalidWebhook("Offline payments have no webhooks.")
