"""Roles and what each may do: the role table of domain.md, in exactly one place."""

from __future__ import annotations

from enum import StrEnum

from pms.models.agency import Role

__all__ = ["Permission", "Role", "allows"]


class Permission(StrEnum):
    AGENCY_MANAGE = "agency.manage"
    TEAM_READ = "team.read"
    TEAM_MANAGE = "team.manage"
    AUDIT_READ = "audit.read"
    PROPERTIES_READ = "properties.read"
    PROPERTIES_WRITE = "properties.write"
    GUESTS_READ = "guests.read"
    GUESTS_WRITE = "guests.write"
    GUESTS_EXPORT_ERASE = "guests.export_erase"
    BOOKINGS_READ = "bookings.read"
    BOOKINGS_CREATE = "bookings.create"
    BOOKINGS_UPDATE = "bookings.update"
    BOOKINGS_OPERATE = "bookings.operate"  # confirm, check in, check out, no-show
    BOOKINGS_CANCEL = "bookings.cancel"  # cancel, decline, refunds
    PAYMENTS_READ = "payments.read"
    BLOCKS_WRITE = "blocks.write"
    OWNER_BLOCKS_WRITE = "owner_blocks.write"
    RATES_READ = "rates.read"
    RATES_WRITE = "rates.write"
    CHANNELS_READ = "channels.read"
    CHANNELS_MANAGE = "channels.manage"
    CHANNEL_CREDENTIALS = "channels.credentials"


P = Permission

_READ_ALL = {
    P.TEAM_READ,
    P.PROPERTIES_READ,
    P.GUESTS_READ,
    P.BOOKINGS_READ,
    P.PAYMENTS_READ,
    P.RATES_READ,
    P.CHANNELS_READ,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MANAGER: frozenset(
        _READ_ALL
        | {
            P.PROPERTIES_WRITE,
            P.GUESTS_WRITE,
            P.BOOKINGS_CREATE,
            P.BOOKINGS_UPDATE,
            P.BOOKINGS_OPERATE,
            P.BOOKINGS_CANCEL,
            P.BLOCKS_WRITE,
            P.OWNER_BLOCKS_WRITE,
            P.RATES_WRITE,
            P.CHANNELS_MANAGE,
        }
    ),
    Role.STAFF: frozenset(
        _READ_ALL | {P.BOOKINGS_CREATE, P.BOOKINGS_OPERATE, P.BLOCKS_WRITE, P.OWNER_BLOCKS_WRITE}
    ),
    Role.ACCOUNTANT: frozenset(_READ_ALL),
    # Owners see only their own properties' calendar and bookings (contacts hidden); the
    # restriction to their properties is applied by the services through Actor.owner_scope.
    Role.OWNER: frozenset({P.PROPERTIES_READ, P.BOOKINGS_READ, P.OWNER_BLOCKS_WRITE}),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
