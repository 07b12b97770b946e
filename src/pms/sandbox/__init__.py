"""Simulators of the channel platforms for tests, demos and load runs."""
