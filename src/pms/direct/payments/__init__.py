"""Payments for direct bookings through a provider interface: offline (bank transfer, pay on
arrival) and Stripe (PaymentIntents, refunds, signed webhooks)."""

from pms.direct.payments.base import (
    MethodNotSupported,
    PaymentProvider,
    PaymentProviderError,
    PaymentRequest,
    ProviderPayment,
    ProviderRefund,
    RefundTarget,
)
from pms.direct.payments.offline import OfflineProvider
from pms.direct.payments.service import (
    CaptureFailed,
    OutcomeKind,
    PaymentOutcome,
    RefundResult,
    StartedPayment,
    capture_payment,
    handle_stripe_event,
    mark_offline_payment_received,
    on_payment_outcome,
    provider_for,
    receive_stripe_webhook,
    refresh_stripe_payment,
    refund_payment,
    release_payment,
    start_payment,
)
from pms.direct.payments.signature import InvalidWebhook, StripeEventData, verify_event
from pms.direct.payments.stripe import StripeClient, StripeProvider

__all__ = [
    "CaptureFailed",
    "InvalidWebhook",
    "MethodNotSupported",
    "OfflineProvider",
    "OutcomeKind",
    "PaymentOutcome",
    "PaymentProvider",
    "PaymentProviderError",
    "PaymentRequest",
    "ProviderPayment",
    "ProviderRefund",
    "RefundResult",
    "RefundTarget",
    "StartedPayment",
    "StripeClient",
    "StripeEventData",
    "StripeProvider",
    "capture_payment",
    "handle_stripe_event",
    "mark_offline_payment_received",
    "on_payment_outcome",
    "provider_for",
    "receive_stripe_webhook",
    "refresh_stripe_payment",
    "refund_payment",
    "release_payment",
    "start_payment",
    "verify_event",
]
