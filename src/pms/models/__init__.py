"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from pms.models.base import Base
from pms.models.outbox import OutboxEvent

__all__ = ["Base", "OutboxEvent"]
