"""Every rule a stay breaks is named, with its dates, limit and the request's value, in words a
guest can read; the booking window refuses nonsense."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pms.core.ari import AriDay, RuleSource
from pms.core.dates import Stay
from pms.core.restrictions import (
    BookingWindow,
    Reason,
    Rule,
    StayNotBookable,
    stay_restrictions,
)

TODAY = date(2030, 5, 1)


def row(day: date, **extra: object) -> AriDay:
    values: dict[str, object] = {
        "available": True,
        "price_minor": 10000,
        "min_stay": 1,
        "max_stay": None,
        "closed_to_arrival": False,
        "closed_to_departure": False,
        **extra,
    }
    return AriDay(day, **values)  # type: ignore[arg-type]


def rows(start: date, days: int, **extra: object) -> dict[date, AriDay]:
    return {start + timedelta(days=i): row(start + timedelta(days=i), **extra) for i in range(days)}


def test_a_stay_breaking_every_rule_is_told_each_one() -> None:
    arrive, leave = date(2030, 5, 3), date(2030, 5, 6)
    calendar = rows(arrive, 4)
    calendar[arrive] = row(
        arrive, min_stay=5, max_stay=2, closed_to_arrival=True, min_stay_source=RuleSource.SEASON
    )
    calendar[date(2030, 5, 4)] = row(date(2030, 5, 4), available=False)
    calendar[date(2030, 5, 5)] = row(date(2030, 5, 5), available=False)
    calendar[leave] = row(leave, closed_to_departure=True)
    reasons = stay_restrictions(
        calendar,
        Stay(arrive, leave),
        guests=5,
        max_guests=4,
        window=BookingWindow(min_lead_days=3),
        today=TODAY,
    )
    assert reasons == (
        Reason(
            Rule.UNAVAILABLE,
            "not available on 2030-05-04, 2030-05-05",
            dates=(date(2030, 5, 4), date(2030, 5, 5)),
        ),
        Reason(
            Rule.MIN_STAY,
            "the season min stay for arrival on 2030-05-03 is 5 nights; this stay has 3",
            dates=(arrive,),
            limit=5,
            actual=3,
            source=RuleSource.SEASON,
        ),
        Reason(
            Rule.MAX_STAY,
            "the max stay for arrival on 2030-05-03 is 2 nights; this stay has 3",
            dates=(arrive,),
            limit=2,
            actual=3,
        ),
        Reason(Rule.CLOSED_TO_ARRIVAL, "no arrivals on 2030-05-03", dates=(arrive,)),
        Reason(Rule.CLOSED_TO_DEPARTURE, "no departures on 2030-05-06", dates=(leave,)),
        Reason(
            Rule.MAX_GUESTS,
            "the property sleeps at most 4 guests; 5 requested",
            limit=4,
            actual=5,
        ),
        Reason(
            Rule.BOOKING_WINDOW,
            "arrival must be at least 3 days ahead; 2030-05-03 is 2 days from 2030-05-01",
            dates=(arrive,),
            limit=3,
            actual=2,
        ),
    )


def test_a_stay_at_every_limit_is_bookable() -> None:
    arrive = date(2030, 5, 4)
    calendar = rows(arrive, 3, min_stay=3, max_stay=3)
    reasons = stay_restrictions(
        calendar,
        Stay(arrive, arrive + timedelta(days=3)),
        guests=4,
        max_guests=4,
        window=BookingWindow(min_lead_days=3, max_advance_days=3),
        today=TODAY,
    )
    assert reasons == ()


def test_a_night_without_a_row_is_unavailable_and_a_missing_departure_row_is_open() -> None:
    arrive = date(2030, 6, 1)
    reasons = stay_restrictions(
        rows(arrive, 1),
        Stay(arrive, arrive + timedelta(days=2)),
        guests=1,
        max_guests=1,
        window=BookingWindow(),
        today=TODAY,
    )
    assert reasons == (
        Reason(Rule.UNAVAILABLE, "not available on 2030-06-02", dates=(date(2030, 6, 2),)),
    )


def test_too_far_ahead_names_the_limit() -> None:
    arrive = date(2030, 5, 12)
    reasons = stay_restrictions(
        rows(arrive, 2),
        Stay(arrive, arrive + timedelta(days=1)),
        guests=1,
        max_guests=2,
        window=BookingWindow(max_advance_days=10),
        today=TODAY,
    )
    assert reasons == (
        Reason(
            Rule.BOOKING_WINDOW,
            "arrival can be at most 10 days ahead; 2030-05-12 is 11 days from 2030-05-01",
            dates=(arrive,),
            limit=10,
            actual=11,
        ),
    )


def test_the_refusal_carries_every_reason() -> None:
    reasons = (
        Reason(Rule.CLOSED_TO_ARRIVAL, "no arrivals on 2030-05-03", dates=(date(2030, 5, 3),)),
        Reason(Rule.MAX_GUESTS, "too many", limit=4, actual=5),
    )
    refusal = StayNotBookable(reasons)
    assert refusal.status == 422
    assert refusal.detail == "no arrivals on 2030-05-03; too many"
    assert refusal.reasons == reasons
    assert refusal.errors == [
        {
            "rule": "closed_to_arrival",
            "message": "no arrivals on 2030-05-03",
            "dates": ["2030-05-03"],
            "limit": None,
            "actual": None,
            "source": None,
        },
        {
            "rule": "max_guests",
            "message": "too many",
            "dates": [],
            "limit": 4,
            "actual": 5,
            "source": None,
        },
    ]


def test_a_booking_window_must_make_sense() -> None:
    with pytest.raises(ValueError, match=r"^min lead days cannot be negative$"):
        BookingWindow(min_lead_days=-1)
    with pytest.raises(ValueError, match=r"^max advance days cannot be below min lead days$"):
        BookingWindow(min_lead_days=3, max_advance_days=2)
    assert BookingWindow(min_lead_days=3, max_advance_days=3).max_advance_days == 3
    assert BookingWindow(min_lead_days=0).min_lead_days == 0
