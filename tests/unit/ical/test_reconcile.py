"""Reconciling a feed's new state with its previous blocks, and when to hold instead."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pms.channel.ical.fetch import FetchError, NotModified
from pms.channel.ical.parse import ParseError, parse_feed
from pms.channel.ical.ranges import NightRange, merge_ranges, occupied_nights
from pms.channel.ical.reconcile import (
    Apply,
    FeedBlock,
    Hold,
    HoldReason,
    SyncPlan,
    decide,
    plan_sync,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ical"
TODAY = date(2026, 6, 12)


def r(start: str, end: str) -> NightRange:
    return NightRange(date.fromisoformat(start), date.fromisoformat(end))


def block(start: str, end: str) -> FeedBlock:
    return FeedBlock(uuid4(), r(start, end))


EMPTY = parse_feed((FIXTURES / "empty_calendar.ics").read_bytes(), "Europe/Berlin")


def test_first_sync_adds_every_current_range() -> None:
    feed = parse_feed((FIXTURES / "airbnb_0_8_8.ics").read_bytes(), "Europe/Berlin")
    decision = decide([], feed, today=TODAY)
    assert decision == Apply(
        SyncPlan(
            add=(
                r("2026-06-10", "2026-06-18"),  # started before today, still occupied tonight
                r("2026-07-01", "2026-07-04"),
                r("2026-12-20", "2027-01-03"),
            )
        )
    )


def test_same_dates_are_unchanged_even_when_uids_differ() -> None:
    kept = [block("2026-07-01", "2026-07-06"), block("2026-07-20", "2026-07-27")]
    feed = parse_feed((FIXTURES / "booking_com.ics").read_bytes(), "Europe/Berlin")
    decision = decide(kept, feed, today=TODAY)
    assert isinstance(decision, Apply)
    assert decision.plan.is_noop
    assert decision.plan.unchanged == tuple(kept)


def test_changed_dates_remove_the_old_block_and_add_the_new_range() -> None:
    extended = block("2026-07-01", "2026-07-05")
    vanished = block("2026-08-01", "2026-08-03")
    same = block("2026-07-20", "2026-07-27")
    plan = plan_sync(
        [extended, vanished, same],
        [
            r("2026-07-01", "2026-07-03"),
            r("2026-07-03", "2026-07-06"),
            r("2026-07-20", "2026-07-27"),
        ],
        today=TODAY,
    )
    assert plan.add == (r("2026-07-01", "2026-07-06"),)
    assert plan.remove == (extended, vanished)
    assert plan.unchanged == (same,)


def test_duplicate_blocks_with_the_same_dates_keep_one() -> None:
    a, b = (
        FeedBlock("a", r("2026-07-01", "2026-07-03")),
        FeedBlock("b", r("2026-07-01", "2026-07-03")),
    )
    plan = plan_sync([b, a], [r("2026-07-01", "2026-07-03")], today=TODAY)
    assert plan.unchanged == (a,)
    assert plan.remove == (b,)
    assert plan.add == ()


def test_past_ranges_are_left_alone_both_ways() -> None:
    history = block("2026-05-01", "2026-05-05")
    ends_today = block("2026-06-08", "2026-06-12")
    plan = plan_sync(
        [history, ends_today],
        [r("2026-04-01", "2026-04-03"), r("2026-07-01", "2026-07-02")],
        today=TODAY,
    )
    assert plan.add == (r("2026-07-01", "2026-07-02"),)
    assert plan.remove == ()
    assert plan.past == (history, ends_today)


def test_an_empty_feed_after_a_full_one_is_held() -> None:
    decision = decide([block("2026-07-01", "2026-07-06")], EMPTY, today=TODAY)
    assert isinstance(decision, Hold)
    assert decision.reason is HoldReason.SUDDENLY_EMPTY
    assert "1 range(s), 5 night(s)" in decision.detail


def test_a_feed_left_with_only_past_events_counts_as_empty() -> None:
    feed = parse_feed((FIXTURES / "airbnb_0_8_8.ics").read_bytes(), "Europe/Berlin")
    decision = decide([block("2027-03-01", "2027-03-05")], feed, today=date(2027, 2, 1))
    assert isinstance(decision, Hold)
    assert decision.reason is HoldReason.SUDDENLY_EMPTY


def test_an_empty_feed_is_applied_when_nothing_current_was_held() -> None:
    assert decide([], EMPTY, today=TODAY) == Apply(SyncPlan())
    history = block("2026-05-01", "2026-05-05")
    assert decide([history], EMPTY, today=TODAY) == Apply(SyncPlan(past=(history,)))


def test_a_person_can_confirm_that_a_feed_really_is_empty() -> None:
    held = block("2026-07-01", "2026-07-06")
    assert decide([held], EMPTY, today=TODAY, accept_empty=True) == Apply(SyncPlan(remove=(held,)))


@pytest.mark.parametrize(
    ("outcome", "reason", "detail"),
    [
        (
            FetchError("http_status", "HTTP 500", 500),
            HoldReason.FETCH_FAILED,
            "http_status: HTTP 500",
        ),
        (FetchError("timeout", "ReadTimeout"), HoldReason.FETCH_FAILED, "timeout: ReadTimeout"),
        (
            FetchError("too_large", "body exceeds 5242880 bytes"),
            HoldReason.FETCH_FAILED,
            "too_large: body exceeds 5242880 bytes",
        ),
        (
            FetchError("blocked_address", "x resolves to a non-public address"),
            HoldReason.FETCH_FAILED,
            "blocked_address: x resolves to a non-public address",
        ),
        (
            ParseError("not_a_calendar", "no BEGIN:VCALENDAR line"),
            HoldReason.UNPARSEABLE,
            "not_a_calendar: no BEGIN:VCALENDAR line",
        ),
    ],
)
def test_failures_hold_the_last_good_state_and_say_why(
    outcome: FetchError | ParseError, reason: HoldReason, detail: str
) -> None:
    for previous in ([], [block("2026-07-01", "2026-07-06")]):
        decision = decide(previous, outcome, today=TODAY)
        assert decision == Hold(reason, detail)


def test_not_modified_rewrites_nothing() -> None:
    current, history = block("2026-07-01", "2026-07-06"), block("2026-05-01", "2026-05-05")
    decision = decide([current, history], NotModified('"e"', None), today=TODAY)
    assert decision == Apply(SyncPlan(unchanged=(current,), past=(history,)))


ranges_strategy = st.lists(
    st.tuples(st.integers(0, 400), st.integers(1, 30)).map(
        lambda t: NightRange(
            date.fromordinal(TODAY.toordinal() - 100 + t[0]),
            date.fromordinal(TODAY.toordinal() - 100 + t[0] + t[1]),
        )
    ),
    max_size=20,
)


@given(old=ranges_strategy, new=ranges_strategy)
def test_property_applying_a_plan_yields_exactly_the_feeds_current_nights(
    old: list[NightRange], new: list[NightRange]
) -> None:
    previous = [FeedBlock(i, rng) for i, rng in enumerate(merge_ranges(old))]
    plan = plan_sync(previous, new, today=TODAY)
    removed = {b.id for b in plan.remove}
    after = [b.nights for b in previous if b.id not in removed] + list(plan.add)
    current = {n for n in occupied_nights(after) if n >= TODAY}
    assert current == {n for n in occupied_nights(new) if n >= TODAY}
    # Applying the same feed again changes nothing.
    again = [FeedBlock(f"x{i}", rng) for i, rng in enumerate(after)]
    assert plan_sync(again, new, today=TODAY).is_noop
