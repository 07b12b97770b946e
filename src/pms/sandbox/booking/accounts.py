"""Booking.com machine accounts and the hotels they may manage (the simulator's seed data)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Hotel:
    id: str
    currency: str
    # room type id -> its rate plan ids
    rooms: dict[str, set[str]] = field(default_factory=dict)

    def room_name(self, room_id: str) -> str:
        return f"Apartment {room_id[-2:]}"


@dataclass
class Account:
    """A machine account: a client id/secret for the token exchange (its legacy Basic
    username/password are refused since the sunset of Basic auth on 31 Dec 2025)."""

    username: str
    password: str
    client_id: str
    client_secret: str
    hotel_ids: set[str]


def seed_hotels() -> dict[str, Hotel]:
    return {
        "9000001": Hotel(
            "9000001", "EUR", {"900000101": {"55500001", "55500002"}, "900000102": {"55500003"}}
        ),
        "9000002": Hotel("9000002", "EUR", {"900000201": {"55500021"}}),
        # Owned by another provider: the 403 case.
        "9000099": Hotel("9000099", "EUR", {"900009901": {"55509901"}}),
    }


def seed_accounts() -> dict[str, Account]:
    accounts = [
        Account(
            "sandbox-pms",
            "sandbox-pass",
            "sandbox-client",
            "sandbox-client-secret",
            {"9000001", "9000002"},
        ),
        Account("other-provider", "other-pass", "other-client", "other-client-secret", {"9000099"}),
    ]
    return {a.username: a for a in accounts}
