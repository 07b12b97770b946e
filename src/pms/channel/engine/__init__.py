"""The outbound sync engine: dirty ranges → current ARI → platform values → diff → runs →
batches → rate limit and circuit breaker → retries → acknowledged state or dead letter."""
