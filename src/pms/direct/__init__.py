"""Direct Booking Engine: search, holds, checkout, guest self-service, payments."""

# Registers the booking e-mail hooks with core.bookings wherever the engine is loaded.
from pms.direct import notifications as _notifications  # noqa: F401
