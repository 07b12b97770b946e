"""PMS-Core services: pure business rules over the database; no HTTP, no Celery."""
