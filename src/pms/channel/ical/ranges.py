"""Occupied night ranges: half-open date intervals ``[start, end)``, ``end`` = checkout day."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, order=True)
class NightRange:
    """The nights ``start`` .. ``end - 1 day``; ``end`` is exclusive, like iCal's all-day DTEND."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"a night range needs end > start, got [{self.start}, {self.end})")

    @property
    def nights(self) -> int:
        return (self.end - self.start).days

    def iter_nights(self) -> Iterator[date]:
        day = self.start
        while day < self.end:
            yield day
            day += timedelta(days=1)

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"


def merge_ranges(ranges: Iterable[NightRange]) -> tuple[NightRange, ...]:
    """Maximal ranges covering the same nights; overlapping and back-to-back ranges are joined.

    Back-to-back stays share a date (one's checkout is the next one's check-in), so ``a.end ==
    b.start`` leaves no free night between them and they become one range.
    """
    merged: list[NightRange] = []
    for r in sorted(ranges):
        if merged and r.start <= merged[-1].end:
            if r.end > merged[-1].end:
                merged[-1] = NightRange(merged[-1].start, r.end)
        else:
            merged.append(r)
    return tuple(merged)


def occupied_nights(ranges: Iterable[NightRange]) -> frozenset[date]:
    """Every night covered by any of the ranges (for comparisons in tests and diagnostics)."""
    return frozenset(night for r in ranges for night in r.iter_nights())
