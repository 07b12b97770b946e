"""Per-day availability, price and restrictions as a simulated platform holds them."""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel


def nights(start: date, end_inclusive: date) -> Iterator[date]:
    """OTA ``Start``/``End`` and EQC ``from``/``to`` are the first and last night (inclusive)."""
    day = start
    while day <= end_inclusive:
        yield day
        day += timedelta(days=1)


def stay_nights(arrival: date, departure: date) -> list[date]:
    """The nights of a stay: arrival up to, not including, departure."""
    return list(nights(arrival, departure - timedelta(days=1)))


@dataclass
class DayState:
    """``None`` means the platform was never told (it then shows its own default)."""

    units: int | None = None
    closed: bool | None = None
    price: Decimal | None = None
    price_before_tax: Decimal | None = None
    currency: str | None = None
    prices_by_occupancy: dict[int, Decimal] = field(default_factory=dict)
    min_stay: int | None = None
    max_stay: int | None = None
    closed_to_arrival: bool | None = None
    closed_to_departure: bool | None = None


# (listing, room type, rate plan); platforms without rooms or rates use "".
CalendarKey = tuple[str, str, str]


T = TypeVar("T", bound=tuple[Any, ...])


def newer(log: Sequence[T], since: int) -> list[T]:
    """The entries of a price log (ordered by their first field, the seq) after ``since``,
    found from the end: a poll costs what is new, not the whole log (the bench's 1,000
    listings leave 365,000 entries from the full sync)."""
    out: list[T] = []
    for entry in reversed(log):
        if entry[0] <= since:
            break
        out.append(entry)
    out.reverse()
    return out


class Calendar:
    def __init__(self) -> None:
        self._days: dict[CalendarKey, dict[date, DayState]] = {}
        # Every change of a night's price with the wall-clock time (the Channel Manager
        # bench's change → platform latency): (seq, key, night, price, at).
        self.price_log: deque[tuple[int, CalendarKey, date, Decimal, float]] = deque(maxlen=500_000)
        self._price_seq = itertools.count(1)

    def set_price(self, key: CalendarKey, night: date, price: Decimal) -> DayState:
        """The night's price, logged when it changes."""
        day = self.day(key, night)
        if day.price != price:
            self.price_log.append((next(self._price_seq), key, night, price, time.time()))
        day.price = price
        return day

    def prices_since(self, since: int) -> list[dict[str, Any]]:
        """The price log after ``since``, as the control API shows it (like Airbnb's)."""
        return [
            {
                "seq": n,
                "listing_id": "/".join(k for k in key if k),
                "date": night.isoformat(),
                "price": f"{price:.2f}",
                "at": at,
            }
            for n, key, night, price, at in newer(self.price_log, since)
        ]

    def day(self, key: CalendarKey, night: date) -> DayState:
        return self._days.setdefault(key, {}).setdefault(night, DayState())

    def get(self, key: CalendarKey, night: date) -> DayState | None:
        return self._days.get(key, {}).get(night)

    def keys_for(self, listing: str) -> list[CalendarKey]:
        return sorted(k for k in self._days if k[0] == listing)

    def clear(self) -> None:
        self._days.clear()


class DayView(BaseModel):
    """One night of one listing (per room type / rate plan where the platform has them)."""

    date: date
    room_id: str | None = None
    rate_plan_id: str | None = None
    available: bool
    units: int | None = None
    price: Decimal | None = None
    # Where the platform keeps both amounts (Google's AmountBeforeTax beside AmountAfterTax).
    price_before_tax: Decimal | None = None
    currency: str | None = None
    prices_by_occupancy: dict[int, Decimal] = {}
    min_stay: int | None = None
    max_stay: int | None = None
    closed_to_arrival: bool = False
    closed_to_departure: bool = False
