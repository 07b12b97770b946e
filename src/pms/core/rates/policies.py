"""Cancellation policies as the API shows and takes them, checked by the refund rules."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pms.core import cancellation
from pms.core.rates.writes import (
    invalid,
)
from pms.models.rates import (
    CancellationPolicy,
)
from pms.schemas import rates as s


def policy_schema(row: CancellationPolicy) -> s.CancellationPolicy:
    return s.CancellationPolicy(
        id=row.id,
        name=row.name,
        rules=[
            s.RefundRuleOut(
                days_before=r["days_before"], refund_percent=Decimal(r["refund_percent"])
            )
            for r in row.rules
        ],
    )


def policy_rules(rules: Sequence[s.RefundRuleIn]) -> list[dict[str, Any]]:
    try:
        policy = cancellation.CancellationPolicy(
            [cancellation.RefundRule(r.days_before, r.refund_percent) for r in rules]
        )
    except ValueError as exc:
        raise invalid("rules", str(exc)) from None
    return [
        {"days_before": r.days_before, "refund_percent": str(r.refund_percent)}
        for r in policy.rules
    ]
