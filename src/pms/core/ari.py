"""Compiling a rate plan's rules into daily ARI rows (availability, rate, restrictions).

Pure: the caller loads the plan, its seasons, weekday prices, per-date overrides and the occupied
nights, and stores the rows this returns. Search, quotes and channels read only the rows, so every
pricing rule below is decided here and nowhere else.

Precedence, strongest first:

- price: per-date override > the season's weekday price > the season's price
  > the plan's weekday price > the plan's base price. A season replaces the plan's whole price
  structure for its dates: a plan-level "weekend +20 %" must not leak into a season that set its
  own price, so a season wanting weekend prices says so itself.
- min stay: per-date override > the season's min stay > the plan's default.
- max stay: per-date override > the plan's default (None = unlimited).
- closed, closed to arrival, closed to departure: only per-date overrides set them.
- available = not occupied and not closed.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from pms.core.dates import ONE_DAY, Stay, days
from pms.core.errors import Conflict

WEEKDAYS = range(7)  # date.weekday(): Monday 0 … Sunday 6


class SeasonsOverlap(Conflict, ValueError):
    code = "seasons-overlap"


class RuleSource(StrEnum):
    """Which rule a value came from, so a refusal can name it ("the season's min stay")."""

    PLAN = "plan"
    SEASON = "season"
    OVERRIDE = "override"


def _frozen_weekday_prices(prices: Mapping[int, int]) -> Mapping[int, int]:
    for weekday, price in prices.items():
        if weekday not in WEEKDAYS:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday}")
        _check_price(price)
    return MappingProxyType(dict(prices))


def _check_price(price: int) -> None:
    if price < 0:
        raise ValueError(f"a price cannot be negative: {price}")


def _check_stay_limits(min_stay: int | None, max_stay: int | None) -> None:
    if min_stay is not None and min_stay < 1:
        raise ValueError(f"min stay must be at least 1 night, got {min_stay}")
    if max_stay is not None and max_stay < max(1, min_stay or 1):
        raise ValueError(f"max stay must be at least 1 night and the min stay, got {max_stay}")


@dataclass(frozen=True, slots=True)
class Season:
    """A nightly price (and optionally a min stay) for the dates `[start, end)`."""

    start: date
    end: date
    price_minor: int
    min_stay: int | None = None
    weekday_prices: Mapping[int, int] = field(default_factory=dict)
    name: str = ""

    def __post_init__(self) -> None:
        Stay(self.start, self.end)  # same validation: end after start
        _check_price(self.price_minor)
        _check_stay_limits(self.min_stay, None)
        object.__setattr__(self, "weekday_prices", _frozen_weekday_prices(self.weekday_prices))


@dataclass(frozen=True, slots=True)
class DayOverride:
    """What a manager set for one date; None leaves the value to the weaker rules."""

    day: date
    price_minor: int | None = None
    min_stay: int | None = None
    max_stay: int | None = None
    closed: bool = False
    closed_to_arrival: bool = False
    closed_to_departure: bool = False

    def __post_init__(self) -> None:
        if self.price_minor is not None:
            _check_price(self.price_minor)
        _check_stay_limits(self.min_stay, self.max_stay)


@dataclass(frozen=True, slots=True)
class RatePlanRules:
    """Everything about one rate plan that decides its daily rows."""

    base_price_minor: int
    default_min_stay: int = 1
    default_max_stay: int | None = None
    weekday_prices: Mapping[int, int] = field(default_factory=dict)
    seasons: Sequence[Season] = ()
    overrides: Sequence[DayOverride] = ()
    # Lookup structures built once, so compiling 24 months is a walk, not a search per rule.
    _season_starts: tuple[date, ...] = field(init=False, repr=False, compare=False)
    _overrides_by_day: Mapping[date, DayOverride] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_price(self.base_price_minor)
        _check_stay_limits(self.default_min_stay, self.default_max_stay)
        object.__setattr__(self, "weekday_prices", _frozen_weekday_prices(self.weekday_prices))

        seasons = tuple(sorted(self.seasons, key=lambda s: s.start))
        for earlier, later in itertools.pairwise(seasons):
            if later.start < earlier.end:
                raise SeasonsOverlap(
                    f"seasons {earlier.start}..{earlier.end} and {later.start}..{later.end} "
                    "overlap",
                    seasons=[_season_range(earlier), _season_range(later)],
                )
        object.__setattr__(self, "seasons", seasons)
        object.__setattr__(self, "_season_starts", tuple(s.start for s in seasons))

        by_day: dict[date, DayOverride] = {}
        for override in self.overrides:
            if override.day in by_day:
                raise ValueError(f"two overrides for {override.day}")
            by_day[override.day] = override
        object.__setattr__(self, "overrides", tuple(sorted(by_day.values(), key=lambda o: o.day)))
        object.__setattr__(self, "_overrides_by_day", MappingProxyType(by_day))

    def season_on(self, day: date) -> Season | None:
        index = bisect.bisect_right(self._season_starts, day) - 1
        if index >= 0 and day < self.seasons[index].end:
            return self.seasons[index]
        return None

    def override_on(self, day: date) -> DayOverride | None:
        return self._overrides_by_day.get(day)


def _season_range(season: Season) -> dict[str, str]:
    return {"start": season.start.isoformat(), "end": season.end.isoformat()}


@dataclass(frozen=True, slots=True)
class AriDay:
    """One compiled day of one rate plan: what search, quotes and channels read."""

    day: date
    available: bool
    price_minor: int
    min_stay: int
    max_stay: int | None
    closed_to_arrival: bool
    closed_to_departure: bool
    min_stay_source: RuleSource = RuleSource.PLAN


def compile_day(plan: RatePlanRules, day: date, *, occupied: bool) -> AriDay:
    season = plan.season_on(day)
    override = plan.override_on(day)
    weekday = day.weekday()

    if override is not None and override.price_minor is not None:
        price = override.price_minor
    elif season is not None:
        price = season.weekday_prices.get(weekday, season.price_minor)
    else:
        price = plan.weekday_prices.get(weekday, plan.base_price_minor)

    if override is not None and override.min_stay is not None:
        min_stay, min_stay_source = override.min_stay, RuleSource.OVERRIDE
    elif season is not None and season.min_stay is not None:
        min_stay, min_stay_source = season.min_stay, RuleSource.SEASON
    else:
        min_stay, min_stay_source = plan.default_min_stay, RuleSource.PLAN

    max_stay = plan.default_max_stay
    if override is not None and override.max_stay is not None:
        max_stay = override.max_stay

    closed = override is not None and override.closed
    return AriDay(
        day=day,
        available=not occupied and not closed,
        price_minor=price,
        min_stay=min_stay,
        max_stay=max_stay,
        closed_to_arrival=override is not None and override.closed_to_arrival,
        closed_to_departure=override is not None and override.closed_to_departure,
        min_stay_source=min_stay_source,
    )


def compile_ari(
    plan: RatePlanRules, start: date, end: date, occupied: Collection[date] = frozenset()
) -> list[AriDay]:
    """The rows for `[start, end)`; `occupied` holds the nights taken by bookings, holds, blocks."""
    return [compile_day(plan, day, occupied=day in occupied) for day in days(start, end)]


def changed_range(before: Iterable[AriDay], after: Iterable[AriDay]) -> Stay | None:
    """The smallest `[start, end)` covering every date whose row differs (None if none does).

    This is the range an `ari.changed` event announces, so channels re-push only what moved.
    """
    old = {row.day: row for row in before}
    new = {row.day: row for row in after}
    changed = sorted(day for day in old.keys() | new.keys() if old.get(day) != new.get(day))
    if not changed:
        return None
    return Stay(changed[0], changed[-1] + ONE_DAY)
