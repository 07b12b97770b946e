"""Direct Booking Engine: search, holds, checkout, guest self-service, payments."""

# Registers the booking e-mail hooks with core.bookings wherever the engine is loaded, and the
# checkout's reactions to payment webhooks and to decisions on requests paid by card.
from pms.direct import checkout as _checkout  # noqa: F401
from pms.direct import notifications as _notifications  # noqa: F401
