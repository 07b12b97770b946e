"""Stays are half-open ranges of nights."""

from __future__ import annotations

from datetime import date

import pytest

from pms.core.dates import InvalidStay, Stay, days, nights_of
from pms.core.errors import Unprocessable


def test_a_stay_counts_and_lists_its_nights() -> None:
    stay = Stay(date(2026, 7, 30), date(2026, 8, 2))
    assert stay.nights == 3
    assert list(stay.dates()) == [date(2026, 7, 30), date(2026, 7, 31), date(2026, 8, 1)]


@pytest.mark.parametrize("check_out", [date(2026, 7, 1), date(2026, 6, 30)])
def test_check_out_must_be_after_check_in(check_out: date) -> None:
    with pytest.raises(InvalidStay) as raised:
        Stay(date(2026, 7, 1), check_out)
    # A 422 for the API, and a ValueError for Pydantic validators.
    assert isinstance(raised.value, Unprocessable)
    assert isinstance(raised.value, ValueError)


def test_check_out_date_is_not_a_night_of_the_stay() -> None:
    stay = Stay(date(2026, 7, 1), date(2026, 7, 3))
    assert date(2026, 7, 2) in stay
    assert date(2026, 7, 3) not in stay


def test_back_to_back_stays_do_not_overlap() -> None:
    first = Stay(date(2026, 7, 1), date(2026, 7, 3))
    assert not first.overlaps(Stay(date(2026, 7, 3), date(2026, 7, 5)))
    assert first.overlaps(Stay(date(2026, 7, 2), date(2026, 7, 5)))
    assert nights_of([first]) == {date(2026, 7, 1), date(2026, 7, 2)}


def test_days_of_an_empty_range_is_empty() -> None:
    assert list(days(date(2026, 7, 1), date(2026, 7, 1))) == []
