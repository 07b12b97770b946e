"""Cancellation policies: which refund applies on which day, and the schedule shown to a guest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from pms.core.money import Money


@dataclass(frozen=True, slots=True)
class RefundRule:
    """Cancelled at least `days_before` days before check-in → `refund_percent` % back."""

    days_before: int
    refund_percent: Decimal

    def __post_init__(self) -> None:
        if self.days_before < 0:
            raise ValueError(f"days_before cannot be negative: {self.days_before}")
        if not 0 <= self.refund_percent <= 100:
            raise ValueError(f"refund percent must be 0..100, got {self.refund_percent}")


@dataclass(frozen=True, slots=True)
class CancellationPolicy:
    rules: Sequence[RefundRule]
    name: str = ""

    def __post_init__(self) -> None:
        # Largest days_before first: the order in which the rules hand over to each other.
        rules = tuple(sorted(self.rules, key=lambda r: r.days_before, reverse=True))
        if len({r.days_before for r in rules}) != len(rules):
            raise ValueError("two refund rules with the same days_before")
        object.__setattr__(self, "rules", rules)

    def refund_percent(self, check_in: date, cancelled_on: date) -> Decimal:
        """The rule with the largest `days_before` not above the days left; none → no refund."""
        days_left = (check_in - cancelled_on).days
        for rule in self.rules:
            if rule.days_before <= days_left:
                return rule.refund_percent
        return Decimal(0)

    def refund(self, paid: Money, check_in: date, cancelled_on: date) -> Money:
        return paid.percent(self.refund_percent(check_in, cancelled_on))


@dataclass(frozen=True, slots=True)
class RefundStep:
    """Cancelling on any day of `[first_day, last_day]` refunds `refund` (None = unbounded)."""

    first_day: date | None
    last_day: date | None
    refund_percent: Decimal
    refund: Money


def refund_schedule(
    policy: CancellationPolicy, paid: Money, check_in: date
) -> tuple[RefundStep, ...]:
    """The policy as dated steps, earliest first, ending with the step that lasts forever."""
    steps: list[RefundStep] = []
    first_day: date | None = None
    for rule in policy.rules:
        # Days left >= days_before ⇔ cancelled on or before check_in - days_before.
        last_day = check_in - timedelta(days=rule.days_before)
        steps.append(
            RefundStep(first_day, last_day, rule.refund_percent, paid.percent(rule.refund_percent))
        )
        first_day = last_day + timedelta(days=1)
    steps.append(RefundStep(first_day, None, Decimal(0), Money.zero(paid.currency)))
    return tuple(_merge_equal_neighbours(steps))


def _merge_equal_neighbours(steps: list[RefundStep]) -> list[RefundStep]:
    # A policy ending in "0 days before: 0 %" would otherwise show two no-refund steps in a row.
    merged: list[RefundStep] = []
    for step in steps:
        if merged and merged[-1].refund_percent == step.refund_percent:
            previous = merged.pop()
            step = RefundStep(previous.first_day, step.last_day, step.refund_percent, step.refund)
        merged.append(step)
    return merged
