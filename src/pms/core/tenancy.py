"""Who is acting, in which agency, with which role; and the transaction scope for RLS."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from pms.core.errors import Forbidden
from pms.core.permissions import Permission, Role, allows
from pms.db import scope_now


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None  # None for system jobs (e.g. the iCal scheduler)
    email: str
    agency_id: uuid.UUID | None = None
    role: Role | None = None
    public: bool = False  # an anonymous guest of the public booking engine

    @classmethod
    def guest_of(cls, agency_id: uuid.UUID) -> Actor:
        """The actor behind public (Direct Booking Engine) requests: no user, no role."""
        return cls(uuid.UUID(int=0), "", agency_id, None, public=True)

    @property
    def is_owner(self) -> bool:
        """Owners see only properties they own; services narrow their queries with this."""
        return self.role is Role.OWNER

    def require_agency(self) -> uuid.UUID:
        if self.agency_id is None:
            raise Forbidden("You are not a member of any agency.")
        return self.agency_id

    def can(self, permission: Permission) -> bool:
        return self.role is not None and allows(self.role, permission)

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Forbidden(f"Your role may not do this ({permission.value}).")


async def scope_transaction(
    session: AsyncSession, *, user_id: uuid.UUID | None, agency_id: uuid.UUID | None
) -> None:
    """Set the RLS context for the rest of this transaction (``SET LOCAL`` semantics)."""
    await scope_now(session, user_id, agency_id)
