"""Channel errors the API maps to problem responses (no secret ever in a detail)."""

from __future__ import annotations

from pms.core.errors import Conflict, DomainError


class PlatformUnavailable(DomainError):
    status = 502
    code = "platform-unavailable"
    title = "The platform did not answer as expected"


class CredentialsRejected(Conflict):
    code = "credentials-rejected"
    title = "The platform refused the credentials"


class WebhookRefused(DomainError):
    status = 400
    code = "webhook-refused"
    title = "Webhook refused"
