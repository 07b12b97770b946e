"""What to send: the nights whose wanted values differ from what the platform acknowledged,
as runs of consecutive nights with equal values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from pms.channel.adapters.base import NightValues, Run

ONE_DAY = timedelta(days=1)


def changed_runs(
    wanted: Mapping[date, NightValues], acknowledged: Mapping[date, NightValues]
) -> list[Run]:
    """Runs over the nights where ``wanted`` differs from ``acknowledged`` (a night never
    acknowledged differs); unchanged nights split runs. Re-sending the same state: no runs."""
    runs: list[Run] = []
    start: date | None = None
    prev: date | None = None
    current: NightValues | None = None
    for night in sorted(wanted):
        values = wanted[night]
        if acknowledged.get(night) == values:
            if start is not None and prev is not None and current is not None:
                runs.append(Run(start, prev + ONE_DAY, current))
            start = prev = current = None
            continue
        if start is not None and prev is not None and prev + ONE_DAY == night and values == current:
            prev = night
            continue
        if start is not None and prev is not None and current is not None:
            runs.append(Run(start, prev + ONE_DAY, current))
        start, prev, current = night, night, values
    if start is not None and prev is not None and current is not None:
        runs.append(Run(start, prev + ONE_DAY, current))
    return runs


def nights_of(run: Run) -> list[date]:
    return [run.start + timedelta(days=i) for i in range((run.end - run.start).days)]
