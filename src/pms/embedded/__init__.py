"""Embedded PostgreSQL and Redis for development and tests, run as child processes."""
