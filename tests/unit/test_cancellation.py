"""Cancellation policies: the rule with the largest days_before not above the days left."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pms.core.cancellation import CancellationPolicy, RefundRule, RefundStep, refund_schedule
from pms.core.money import Money
from tests.unit.strategies import percents

CHECK_IN = date(2026, 7, 31)
POLICY = CancellationPolicy(
    [RefundRule(7, Decimal(12)), RefundRule(30, Decimal(100)), RefundRule(14, Decimal(50))]
)


@pytest.mark.parametrize(
    ("days_left", "percent"),
    [
        (365, 100),
        (30, 100),  # exactly 30 days before
        (29, 50),
        (14, 50),
        (13, 12),
        (7, 12),
        (6, 0),  # no rule is small enough: nothing back
        (0, 0),
        (-3, 0),  # cancelled after arrival
    ],
)
def test_the_largest_days_before_not_above_the_days_left_applies(
    days_left: int, percent: int
) -> None:
    cancelled_on = CHECK_IN - timedelta(days=days_left)
    assert POLICY.refund_percent(CHECK_IN, cancelled_on) == percent


def test_refunds_round_half_up_not_down() -> None:
    # 99.99 * 12 % = 11.9988 -> 12.00; truncation gave 11.99.
    refund = POLICY.refund(Money(9999, "EUR"), CHECK_IN, CHECK_IN - timedelta(days=10))
    assert refund == Money(1200, "EUR")


def test_refunds_in_yen() -> None:
    # 12345 JPY * 50 % = 6172.5 -> 6173
    refund = POLICY.refund(Money(12345, "JPY"), CHECK_IN, CHECK_IN - timedelta(days=20))
    assert refund == Money(6173, "JPY")


def test_the_schedule_lists_refunds_by_date() -> None:
    assert refund_schedule(POLICY, Money(9999, "EUR"), CHECK_IN) == (
        RefundStep(None, date(2026, 7, 1), Decimal(100), Money(9999, "EUR")),
        RefundStep(date(2026, 7, 2), date(2026, 7, 17), Decimal(50), Money(5000, "EUR")),
        RefundStep(date(2026, 7, 18), date(2026, 7, 24), Decimal(12), Money(1200, "EUR")),
        RefundStep(date(2026, 7, 25), None, Decimal(0), Money(0, "EUR")),
    )


def test_a_closing_zero_percent_rule_is_one_step_with_the_no_refund_tail() -> None:
    policy = CancellationPolicy([RefundRule(14, Decimal(100)), RefundRule(0, Decimal(0))])
    assert refund_schedule(policy, Money(10000, "EUR"), CHECK_IN) == (
        RefundStep(None, date(2026, 7, 17), Decimal(100), Money(10000, "EUR")),
        RefundStep(date(2026, 7, 18), None, Decimal(0), Money(0, "EUR")),
    )


def test_a_policy_without_rules_never_refunds() -> None:
    policy = CancellationPolicy([])
    assert refund_schedule(policy, Money(10000, "EUR"), CHECK_IN) == (
        RefundStep(None, None, Decimal(0), Money(0, "EUR")),
    )


def test_two_rules_for_the_same_day_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^two refund rules with the same days_before$"):
        CancellationPolicy([RefundRule(7, Decimal(10)), RefundRule(7, Decimal(20))])


@pytest.mark.parametrize(("days", "percent"), [(-1, Decimal(10)), (3, Decimal(101))])
def test_invalid_rules_are_refused(days: int, percent: Decimal) -> None:
    with pytest.raises(ValueError, match=r"cannot be negative|0\.\.100"):
        RefundRule(days, percent)


@given(
    rules=st.dictionaries(st.integers(0, 90), percents, max_size=5),
    paid=st.integers(0, 10**8),
    days_left=st.integers(-30, 200),
)
def test_the_schedule_agrees_with_the_rule_on_every_day(
    rules: dict[int, Decimal], paid: int, days_left: int
) -> None:
    policy = CancellationPolicy([RefundRule(d, p) for d, p in rules.items()])
    amount = Money(paid, "EUR")
    cancelled_on = CHECK_IN - timedelta(days=days_left)
    steps = [
        step
        for step in refund_schedule(policy, amount, CHECK_IN)
        if (step.first_day is None or step.first_day <= cancelled_on)
        and (step.last_day is None or cancelled_on <= step.last_day)
    ]
    assert len(steps) == 1  # the steps tile the calendar
    assert steps[0].refund == policy.refund(amount, CHECK_IN, cancelled_on)
