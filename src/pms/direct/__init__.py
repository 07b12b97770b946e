"""Direct Booking Engine: search, holds, checkout, guest self-service, payments."""
