"""Celery app and thin task functions that call core, channel and direct services."""
