"""Calendar dates and stays as half-open ranges `[check_in, check_out)` of nights."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from pms.core.errors import Unprocessable

ONE_DAY = timedelta(days=1)


class InvalidStay(Unprocessable, ValueError):
    """Check-out not after check-in. Also a ValueError so Pydantic validators report it."""

    code = "invalid-stay"


def days(start: date, end: date) -> Iterator[date]:
    """Every date of `[start, end)`."""
    day = start
    while day < end:
        yield day
        day += ONE_DAY


@dataclass(frozen=True, slots=True)
class Stay:
    """The nights from check-in up to, not including, check-out.

    Half-open, so back-to-back stays share a date: one guest leaves the morning the next arrives.
    """

    check_in: date
    check_out: date

    def __post_init__(self) -> None:
        if self.check_out <= self.check_in:
            raise InvalidStay(f"check-out {self.check_out} must be after check-in {self.check_in}")

    @property
    def nights(self) -> int:
        return (self.check_out - self.check_in).days

    def dates(self) -> Iterator[date]:
        """The nights of the stay, by the date each one starts."""
        return days(self.check_in, self.check_out)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.check_in <= day < self.check_out

    def overlaps(self, other: Stay) -> bool:
        return self.check_in < other.check_out and other.check_in < self.check_out


def nights_of(stays: Iterable[Stay]) -> frozenset[date]:
    """The set of nights covered by any of the ranges (bookings, holds, blocks)."""
    return frozenset(day for stay in stays for day in stay.dates())
