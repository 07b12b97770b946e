"""The outbound engine's pure parts: diff against acknowledged nights, runs, Airbnb batches
within its limits (call economy), markup rounding, backoff honouring Retry-After."""

from __future__ import annotations

import math
from datetime import date, timedelta

from pms.channel.adapters.airbnb import MAX_OPERATIONS, AirbnbAdapter
from pms.channel.adapters.base import NightValues, Run
from pms.channel.engine.diff import changed_runs
from pms.channel.engine.retries import delay
from pms.channel.engine.values import marked_up
from pms.settings import Settings

START = date(2030, 1, 1)


def _nights(n: int, value: object = None) -> dict[date, NightValues]:
    return {
        START + timedelta(days=i): NightValues(
            available=True, price_minor=10000 + (i if value is None else 0), min_stay=2
        )
        for i in range(n)
    }


def test_the_same_state_again_is_no_run() -> None:
    state = _nights(365)
    assert changed_runs(state, state) == []


def test_equal_consecutive_nights_are_one_run_and_unchanged_nights_split_runs() -> None:
    want = _nights(10, value=0)
    have = {START + timedelta(days=4): want[START + timedelta(days=4)]}
    runs = changed_runs(want, have)
    assert [(r.start, r.end) for r in runs] == [
        (START, START + timedelta(days=4)),
        (START + timedelta(days=5), START + timedelta(days=10)),
    ]


def test_a_365_night_change_with_a_new_price_every_night_fits_in_4_calls() -> None:
    runs = changed_runs(_nights(365), {})
    assert len(runs) == 365
    batches = AirbnbAdapter(Settings()).batches(runs)
    assert len(batches) == math.ceil(365 / MAX_OPERATIONS) == 4
    assert sum(b.nights for b in batches) == 365


def test_one_value_everywhere_is_one_call() -> None:
    batches = AirbnbAdapter(Settings()).batches(changed_runs(_nights(365, value=0), {}))
    assert len(batches) == 1


def test_runs_with_equal_values_share_an_operation() -> None:
    weekend = NightValues(price_minor=15000)
    week = NightValues(price_minor=10000)
    runs = [
        Run(START + timedelta(days=7 * w + d), START + timedelta(days=7 * w + d + e), v)
        for w in range(52)
        for d, e, v in ((0, 5, week), (5, 2, weekend))
    ]
    # 104 runs, two values: 4 operations of up to 50 date ranges, in one call.
    assert len(AirbnbAdapter(Settings()).batches(runs)) == 1


def test_markups_round_half_up() -> None:
    assert marked_up(10000, "percent", 1250) == 11250
    assert marked_up(999, "percent", 1500) == 1149  # 999 x 15 % = 149.85, rounded to 150
    assert marked_up(10000, "fixed", 500) == 10500
    assert marked_up(10000, "none", 9999) == 10000


def test_backoff_never_undercuts_retry_after() -> None:
    for attempt in range(1, 8):
        assert delay(attempt, 0.5, 30.0, retry_after=7) >= 7
        assert delay(attempt, 0.5, 30.0) <= 30.0
