"""Compiling rate rules into daily ARI rows: precedence, restrictions, availability."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pms.core.ari import (
    AriDay,
    DayOverride,
    RatePlanRules,
    RuleSource,
    Season,
    SeasonsOverlap,
    changed_range,
    compile_ari,
    compile_day,
)
from pms.core.dates import Stay
from pms.core.errors import Conflict
from tests.unit.strategies import WINDOW_DAYS, plans, window_day

FRI, SAT = 4, 5
# July 2026: the 1st is a Wednesday, the 3rd a Friday, the 4th a Saturday.
JUL = [date(2026, 7, d) for d in range(1, 32)]


def prices(rows: list[AriDay]) -> list[int]:
    return [row.price_minor for row in rows]


def test_without_rules_every_day_has_the_base_price_and_plan_limits() -> None:
    plan = RatePlanRules(base_price_minor=10000, default_min_stay=2, default_max_stay=30)
    rows = compile_ari(plan, JUL[0], JUL[7])
    assert [row.day for row in rows] == JUL[:7]
    assert all(row.price_minor == 10000 for row in rows)
    assert all((row.min_stay, row.max_stay) == (2, 30) for row in rows)
    assert all(row.min_stay_source is RuleSource.PLAN for row in rows)
    assert all(row.available for row in rows)
    assert not any(row.closed_to_arrival or row.closed_to_departure for row in rows)


def test_plan_weekday_prices_apply_outside_seasons() -> None:
    plan = RatePlanRules(base_price_minor=10000, weekday_prices={FRI: 13000, SAT: 14000})
    # Wed, Thu, Fri, Sat, Sun
    assert prices(compile_ari(plan, JUL[0], JUL[5])) == [10000, 10000, 13000, 14000, 10000]


def test_season_price_replaces_the_plan_weekday_price() -> None:
    plan = RatePlanRules(
        base_price_minor=10000,
        weekday_prices={FRI: 13000},
        seasons=[Season(JUL[2], JUL[10], 12000)],
    )
    # Thu (base), Fri in season (season price, not the plan's Friday), Sat in season
    assert prices(compile_ari(plan, JUL[1], JUL[4])) == [10000, 12000, 12000]


def test_season_weekday_price_beats_the_season_price() -> None:
    plan = RatePlanRules(
        base_price_minor=10000,
        seasons=[Season(JUL[0], JUL[30], 12000, weekday_prices={SAT: 16000})],
    )
    assert prices(compile_ari(plan, JUL[2], JUL[5])) == [12000, 16000, 12000]


def test_a_date_override_beats_everything() -> None:
    plan = RatePlanRules(
        base_price_minor=10000,
        weekday_prices={SAT: 14000},
        seasons=[Season(JUL[0], JUL[30], 12000, min_stay=5, weekday_prices={SAT: 16000})],
        overrides=[DayOverride(JUL[3], price_minor=9999, min_stay=1, max_stay=3)],
    )
    row = compile_day(plan, JUL[3], occupied=False)
    assert (row.price_minor, row.min_stay, row.max_stay) == (9999, 1, 3)
    assert row.min_stay_source is RuleSource.OVERRIDE


def test_an_override_without_price_keeps_the_price_of_the_weaker_rules() -> None:
    plan = RatePlanRules(
        base_price_minor=10000,
        seasons=[Season(JUL[0], JUL[30], 12000, min_stay=5)],
        overrides=[DayOverride(JUL[3], closed_to_arrival=True)],
    )
    row = compile_day(plan, JUL[3], occupied=False)
    assert (row.price_minor, row.min_stay, row.closed_to_arrival) == (12000, 5, True)


def test_min_stay_comes_from_the_season_then_the_plan() -> None:
    plan = RatePlanRules(
        base_price_minor=10000, default_min_stay=2, seasons=[Season(JUL[4], JUL[10], 12000, 7)]
    )
    inside, outside = (
        compile_day(plan, JUL[4], occupied=False),
        compile_day(plan, JUL[3], occupied=False),
    )
    assert (inside.min_stay, inside.min_stay_source) == (7, RuleSource.SEASON)
    assert (outside.min_stay, outside.min_stay_source) == (2, RuleSource.PLAN)


def test_a_season_is_half_open() -> None:
    plan = RatePlanRules(base_price_minor=10000, seasons=[Season(JUL[1], JUL[3], 12000)])
    assert prices(compile_ari(plan, JUL[0], JUL[4])) == [10000, 12000, 12000, 10000]


def test_adjacent_seasons_hand_over_at_the_boundary() -> None:
    plan = RatePlanRules(
        base_price_minor=10000,
        seasons=[Season(JUL[3], JUL[6], 15000), Season(JUL[0], JUL[3], 12000)],
    )
    assert prices(compile_ari(plan, JUL[0], JUL[7])) == [12000] * 3 + [15000] * 3 + [10000]


def test_overlapping_seasons_are_a_conflict() -> None:
    with pytest.raises(SeasonsOverlap) as raised:
        RatePlanRules(
            base_price_minor=10000,
            seasons=[Season(JUL[0], JUL[5], 12000), Season(JUL[4], JUL[9], 15000)],
        )
    assert isinstance(raised.value, Conflict)  # the API answers 409


def test_two_overrides_for_one_date_are_refused() -> None:
    with pytest.raises(ValueError, match="two overrides"):
        RatePlanRules(
            base_price_minor=1, overrides=[DayOverride(JUL[0]), DayOverride(JUL[0], closed=True)]
        )


@pytest.mark.parametrize(
    "bad",
    [
        lambda: RatePlanRules(base_price_minor=-1),
        lambda: RatePlanRules(base_price_minor=1, default_min_stay=0),
        lambda: RatePlanRules(base_price_minor=1, weekday_prices={7: 100}),
        lambda: Season(JUL[3], JUL[3], 100),
        lambda: DayOverride(JUL[0], max_stay=0),
        lambda: DayOverride(JUL[0], min_stay=5, max_stay=3),
        lambda: RatePlanRules(base_price_minor=1, default_min_stay=7, default_max_stay=3),
    ],
)
def test_invalid_rules_are_refused(bad: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r"must|cannot|after"):
        bad()


def test_occupied_and_closed_days_are_unavailable_and_only_they() -> None:
    plan = RatePlanRules(base_price_minor=10000, overrides=[DayOverride(JUL[2], closed=True)])
    rows = compile_ari(plan, JUL[0], JUL[4], occupied={JUL[1]})
    assert [row.available for row in rows] == [True, False, False, True]
    # A closed or booked day still has its price, so channels and the calendar can show it.
    assert all(row.price_minor == 10000 for row in rows)


def test_arrival_and_departure_restrictions_come_from_overrides() -> None:
    plan = RatePlanRules(
        base_price_minor=10000,
        overrides=[
            DayOverride(JUL[0], closed_to_arrival=True),
            DayOverride(JUL[1], closed_to_departure=True),
        ],
    )
    rows = compile_ari(plan, JUL[0], JUL[3])
    assert [(r.closed_to_arrival, r.closed_to_departure) for r in rows] == [
        (True, False),
        (False, True),
        (False, False),
    ]


def test_changed_range_covers_exactly_the_changed_dates() -> None:
    before = RatePlanRules(base_price_minor=10000)
    after = RatePlanRules(
        base_price_minor=10000,
        overrides=[DayOverride(JUL[3], price_minor=1), DayOverride(JUL[6], closed=True)],
    )
    old, new = compile_ari(before, JUL[0], JUL[20]), compile_ari(after, JUL[0], JUL[20])
    assert changed_range(old, new) == Stay(JUL[3], JUL[7])
    assert changed_range(old, old) is None


# --- properties ---------------------------------------------------------------------------------


def reference_price(plan: RatePlanRules, day: date) -> int:
    """The documented precedence, written as plainly as possible (linear season search)."""
    override = next((o for o in plan.overrides if o.day == day), None)
    if override is not None and override.price_minor is not None:
        return override.price_minor
    season = next((s for s in plan.seasons if s.start <= day < s.end), None)
    if season is not None:
        return season.weekday_prices.get(day.weekday(), season.price_minor)
    return plan.weekday_prices.get(day.weekday(), plan.base_price_minor)


@given(plan=plans(), occupied=st.sets(st.integers(0, WINDOW_DAYS - 1), max_size=20))
def test_compiled_rows_follow_the_documented_precedence(
    plan: RatePlanRules, occupied: set[int]
) -> None:
    taken = {window_day(o) for o in occupied}
    rows = compile_ari(plan, window_day(0), window_day(WINDOW_DAYS), taken)
    assert len(rows) == WINDOW_DAYS
    for row in rows:
        override = plan.override_on(row.day)
        assert row.price_minor == reference_price(plan, row.day)
        assert row.available == (row.day not in taken and not (override and override.closed))


@given(plan=plans(), a=st.integers(0, WINDOW_DAYS), b=st.integers(0, WINDOW_DAYS))
def test_recomputing_a_sub_range_gives_the_same_rows_as_the_full_range(
    plan: RatePlanRules, a: int, b: int
) -> None:
    start, end = sorted((a, b))
    full = compile_ari(plan, window_day(0), window_day(WINDOW_DAYS))
    assert compile_ari(plan, window_day(start), window_day(end)) == full[start:end]
