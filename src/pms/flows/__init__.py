"""Use cases that join several parts (Core, the Direct Booking Engine, the Channel Manager),
each one explicit function whose steps a reader sees in order. Endpoints and tasks call these;
the parts never call each other through registered hooks."""
