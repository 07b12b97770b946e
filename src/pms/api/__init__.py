"""HTTP API: app factory, one router module per resource, dependencies, error mapping."""
