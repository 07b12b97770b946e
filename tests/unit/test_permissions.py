"""The role table of domain.md ("Tenancy and roles"), row by row, against ``allows``; written
from the document, not from ROLE_PERMISSIONS. (test_permissions.py in tests/integration asks
the API the same question, route by route.)"""

from __future__ import annotations

import pytest

from pms.core.permissions import Permission, Role, allows

P = Permission
READS = {
    P.TEAM_READ,
    P.PROPERTIES_READ,
    P.GUESTS_READ,
    P.BOOKINGS_READ,
    P.PAYMENTS_READ,
    P.RATES_READ,
    P.CHANNELS_READ,
}
# Only an admin: agency settings, team and roles, channel credentials, export and erasure
# (and the audit log of them).
ADMIN_ONLY = {
    P.AGENCY_MANAGE,
    P.TEAM_MANAGE,
    P.AUDIT_READ,
    P.CHANNEL_CREDENTIALS,
    P.GUESTS_EXPORT_ERASE,
}
MAY: dict[Role, set[Permission]] = {
    Role.ADMIN: set(Permission),
    # properties, rates (restrictions, fees, taxes), channel connections and syncs, blocks,
    # guests, bookings including cancel and refunds
    Role.MANAGER: set(Permission) - ADMIN_ONLY,
    # read everything; create bookings and blocks; confirm, check in, check out, no-show
    Role.STAFF: READS
    | {P.BOOKINGS_CREATE, P.BOOKINGS_OPERATE, P.BLOCKS_WRITE, P.OWNER_BLOCKS_WRITE},
    Role.ACCOUNTANT: READS,
    # their own properties' calendar and bookings, their own owner blocks
    Role.OWNER: {P.PROPERTIES_READ, P.BOOKINGS_READ, P.OWNER_BLOCKS_WRITE},
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_do_exactly_what_domain_md_says(role: Role) -> None:
    assert {p for p in Permission if allows(role, p)} == MAY[role]


def test_only_an_admin_manages_the_agency_its_team_credentials_and_erasure() -> None:
    for permission in ADMIN_ONLY:
        assert [role for role in Role if allows(role, permission)] == [Role.ADMIN]


def test_staff_neither_cancel_nor_change_rates_or_configuration() -> None:
    for permission in (P.BOOKINGS_CANCEL, P.RATES_WRITE, P.PROPERTIES_WRITE, P.CHANNELS_MANAGE):
        assert not allows(Role.STAFF, permission)
        assert allows(Role.MANAGER, permission)
