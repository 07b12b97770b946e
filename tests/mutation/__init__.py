"""Mutation testing of the modules that hold the rules (``make mutation``; docs/testing.md)."""
