"""The rules of public search that need no database: the date picker's days
(``search.calendar_days``: open, can check in, can check out), the booking window, the filters
that go together, and the distance. Each stated as domain.md and the restrictions state them
for a booking (``core.restrictions.stay_restrictions``)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from pms.core.ari import AriDay
from pms.core.dates import Stay
from pms.core.errors import Unprocessable
from pms.core.restrictions import BookingWindow
from pms.direct.search import CalendarDay, Filters, _window_allows, calendar_days, distance_km

T = date(2031, 4, 7)  # the property's today
OPEN = BookingWindow()


def at(n: int) -> date:
    return T + timedelta(days=n)


def rows(first: int, last: int, **by_day: dict[str, object]) -> list[AriDay]:
    """Open rows for days ``first``..``last`` (inclusive), priced 100 + n, min stay 1; a
    ``d<n>`` keyword changes that day's row."""
    out = []
    for n in range(first, last + 1):
        fields: dict[str, object] = {
            "available": True,
            "price_minor": 100 + n,
            "min_stay": 1,
            "max_stay": None,
            "closed_to_arrival": False,
            "closed_to_departure": False,
        }
        fields.update(by_day.get(f"d{n}", {}))
        out.append(AriDay(day=at(n), **fields))  # type: ignore[arg-type]
    return out


def days(
    ari: list[AriDay],
    start: int,
    end: int,
    occupied: tuple[int, ...] = (),
    window: BookingWindow = OPEN,
) -> dict[int, CalendarDay]:
    out = calendar_days(ari, frozenset(at(n) for n in occupied), at(start), at(end), window, T)
    assert [d.day for d in out] == [at(n) for n in range(start, end)]  # [start, end)
    return {(d.day - T).days: d for d in out}


def test_a_day_is_open_when_its_row_is_available_and_nothing_occupies_it() -> None:
    found = days(rows(0, 3, d2={"available": False}), 0, 6, occupied=(1,))
    assert [found[n].available for n in range(6)] == [True, False, False, True, False, False]
    # The day's rules and price are its row's; a day without a row has none.
    assert (found[3].min_stay, found[3].max_stay, found[3].price_minor) == (1, None, 103)
    assert (found[4].min_stay, found[4].max_stay, found[4].price_minor) == (None, None, None)
    with_rules = days(rows(0, 1, d0={"min_stay": 2, "max_stay": 5}), 0, 1)
    assert (with_rules[0].min_stay, with_rules[0].max_stay) == (2, 5)


def test_a_stay_may_end_on_a_day_after_an_open_night_unless_closed_to_departure() -> None:
    found = days(rows(0, 5, d3={"closed_to_departure": True}), 0, 8, occupied=(4,))
    can_leave = {n: found[n].can_check_out for n in found}
    # Day 0: the night before has no row. Day 3: closed to departure. Day 5: night 4 is taken.
    # Day 6: night 5 is open, and day 6 has no row, so nothing closes it.
    assert can_leave == {
        0: False,
        1: True,
        2: True,
        3: False,
        4: True,
        5: False,
        6: True,
        7: False,
    }


def test_arrival_needs_an_open_night_not_closed_to_arrival() -> None:
    found = days(rows(0, 6, d1={"closed_to_arrival": True}, d3={"available": False}), 0, 6, (4,))
    assert [found[n].can_check_in for n in range(6)] == [True, False, True, False, False, True]


def test_arrival_needs_the_booking_window_counted_from_the_propertys_today() -> None:
    # At least 2 days ahead and at most 4: both limits are allowed days.
    found = days(rows(0, 8), 0, 7, window=BookingWindow(2, 4))
    assert [found[n].can_check_in for n in range(7)] == [
        False,
        False,
        True,
        True,
        True,
        False,
        False,
    ]
    # Without a maximum, any day far enough ahead.
    found = days(rows(0, 8), 0, 7, window=BookingWindow(1, None))
    assert [found[n].can_check_in for n in range(7)] == [False] + [True] * 6


def test_arrival_needs_a_stay_of_at_least_the_min_stay_on_open_nights() -> None:
    # Min stay 3 on day 1: nights 1, 2 and 3 are exactly enough; with night 3 taken, not.
    ari = rows(0, 8, d1={"min_stay": 3})
    assert days(ari, 1, 2, occupied=(4,))[1].can_check_in
    assert not days(ari, 1, 2, occupied=(3,))[1].can_check_in


def test_arrival_needs_a_departure_day_not_closed_to_departure_within_the_max_stay() -> None:
    # Max stay 2 on day 1: it may end on day 2 or 3, not later.
    both_closed = rows(0, 8, d1={"max_stay": 2}, d2={"closed_to_departure": True})
    both_closed[3] = rows(3, 3, d3={"closed_to_departure": True})[0]
    assert not days(both_closed, 1, 2)[1].can_check_in
    one_closed = rows(0, 8, d1={"max_stay": 2}, d2={"closed_to_departure": True})
    assert days(one_closed, 1, 2)[1].can_check_in  # the two nights to day 3
    # A departure day past the stored rows is not closed (as for a booking).
    assert days(rows(0, 1), 1, 2)[1].can_check_in
    # Min stay 2 and max stay 2: only the stay ending on day 3, which is closed.
    exact = rows(0, 8, d1={"min_stay": 2, "max_stay": 2}, d3={"closed_to_departure": True})
    assert not days(exact, 1, 2)[1].can_check_in


def test_without_a_max_stay_the_picker_looks_60_nights_past_the_min_stay() -> None:
    """A stay longer than the min stay plus 60 nights is not looked for (the rows read stop
    there): with every departure up to then closed, day 0 offers no arrival."""
    closed = {f"d{n}": {"closed_to_departure": True} for n in range(1, 62)}
    # Min stay 1: departures on days 1 to 61 are looked at. Day 61 open: an arrival.
    open_61 = {k: v for k, v in closed.items() if k != "d61"}
    assert days(rows(0, 70, **open_61), 0, 1)[0].can_check_in
    assert not days(rows(0, 70, **closed), 0, 1)[0].can_check_in
    # Min stay 2: up to 62 nights.
    two = {**closed, "d0": {"min_stay": 2}, "d62": {"closed_to_departure": False}}
    assert days(rows(0, 70, **two), 0, 1)[0].can_check_in


@pytest.mark.parametrize(
    ("lead", "window", "allowed"),
    [
        (0, (0, None), True),
        (1, (2, None), False),
        (2, (2, None), True),
        (10, (2, 10), True),
        (11, (2, 10), False),
        (5, (-1, None), False),  # an invalid window is refused, as a quote refuses it
        (5, (3, 2), False),
    ],
)
def test_the_booking_window_of_search(
    lead: int, window: tuple[int, int | None], allowed: bool
) -> None:
    stay = Stay(at(lead), at(lead + 2))
    assert _window_allows(window, stay, T) is allowed


def test_filters_that_go_together() -> None:
    Filters(latitude=54.9, longitude=8.3)
    Filters(latitude=54.9, longitude=8.3, radius_km=5)
    Filters(latitude=0.0, longitude=0.0, radius_km=0)
    for kwargs, field, message in (
        ({"latitude": 54.9}, "lat", "lat and lng go together"),
        ({"longitude": 8.3}, "lat", "lat and lng go together"),
        ({"radius_km": 5}, "radius_km", "a radius needs lat and lng"),
        ({"latitude": 54.9, "radius_km": 5}, "lat", "lat and lng go together"),
    ):
        with pytest.raises(Unprocessable) as refused:
            Filters(**kwargs)  # type: ignore[arg-type]
        assert str(refused.value) == message
        assert refused.value.errors == [{"field": field, "in": "query", "message": message}]


def _law_of_cosines_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """The same great-circle distance by another formula (fine away from tiny distances)."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lng2 - lng1)
    cos_angle = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6371.0088 * math.acos(max(-1.0, min(1.0, cos_angle)))


@pytest.mark.parametrize(
    "points",
    [
        (53.5511, 9.9937, 54.9079, 8.3100),  # Hamburg to Westerland (Sylt)
        (0.0, 0.0, 0.0, 90.0),  # a quarter of the equator
        (0.0, 0.0, 90.0, 0.0),  # to the pole
        (10.0, 20.0, -10.0, 30.0),
        (-33.86, 151.21, 51.5, -0.12),  # Sydney to London
        (0.0, 0.0, 0.0, 180.0),  # antipodes: the haversine term reaches 1
    ],
)
def test_distance_is_the_great_circle_distance(points: tuple[float, float, float, float]) -> None:
    assert distance_km(*points) == pytest.approx(_law_of_cosines_km(*points), rel=1e-9)
    lat1, lng1, lat2, lng2 = points
    assert distance_km(lat2, lng2, lat1, lng1) == pytest.approx(distance_km(*points), rel=1e-12)


def test_distance_to_the_same_point_is_zero_and_a_quarter_circle_is_known() -> None:
    assert distance_km(54.9, 8.31, 54.9, 8.31) == 0.0
    assert distance_km(0, 0, 0, 90) == pytest.approx(math.pi / 2 * 6371.0088)
