"""Core's daily ARI row → what a mapped listing should show: markup, and only what it syncs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from pms.channel.adapters.base import FULL_FIDELITY, Fidelity, NightValues
from pms.core.ari import AriDay
from pms.core.money import percent_of
from pms.models.channel import ChannelMapping, MarkupKind


def marked_up(price_minor: int, kind: str, value: int) -> int:
    """Percent markups are in basis points (12.5 % = 1250), rounded half up; fixed ones add
    minor units per night."""
    if kind == MarkupKind.PERCENT:
        return price_minor + percent_of(price_minor, Decimal(value) / 100)
    if kind == MarkupKind.FIXED:
        return price_minor + value
    return price_minor


@dataclass(frozen=True)
class Gap:
    """A rule of Core the platform cannot express, and what it shows instead."""

    rule: str
    wanted: str
    shown: str


def expressed(values: NightValues, fidelity: Fidelity) -> tuple[NightValues, list[Gap]]:
    """The values as the platform can show them, and what was lost on the way."""
    if fidelity == FULL_FIDELITY:
        return values, []
    gaps: list[Gap] = []
    out = values
    cap = fidelity.max_los
    if cap is not None and values.min_stay is not None and values.min_stay > cap:
        gaps.append(Gap("min_stay", f"{values.min_stay} nights", f"{cap} nights"))
        out = replace(out, min_stay=cap)
    if values.min_stay is not None and values.max_stay is None and not fidelity.clears_max_stay:
        shown = cap or 0
        gaps.append(Gap("max_stay", "no maximum", f"{shown} nights"))
        out = replace(out, max_stay=shown or None)
    elif cap is not None and values.max_stay is not None and values.max_stay > cap:
        gaps.append(Gap("max_stay", f"{values.max_stay} nights", f"{cap} nights"))
        out = replace(out, max_stay=cap)
    if values.closed_to_arrival and not fidelity.closed_to_arrival:
        gaps.append(Gap("closed_to_arrival", "closed to arrival", "open to arrival"))
    if values.closed_to_departure and not fidelity.closed_to_departure:
        gaps.append(Gap("closed_to_departure", "closed to departure", "open to departure"))
    if not fidelity.closed_to_arrival and values.closed_to_arrival is not None:
        out = replace(out, closed_to_arrival=None)
    if not fidelity.closed_to_departure and values.closed_to_departure is not None:
        out = replace(out, closed_to_departure=None)
    return out, gaps


def platform_values(
    row: AriDay, mapping: ChannelMapping, fidelity: Fidelity = FULL_FIDELITY
) -> NightValues:
    return expressed(core_values(row, mapping), fidelity)[0]


def core_values(row: AriDay, mapping: ChannelMapping) -> NightValues:
    """What the mapping syncs of Core's night, before the platform's limits."""
    restrictions = mapping.sync_restrictions
    return NightValues(
        available=row.available if mapping.sync_availability else None,
        price_minor=(
            marked_up(row.price_minor, mapping.markup_kind, mapping.markup_value)
            if mapping.sync_prices
            else None
        ),
        min_stay=row.min_stay if restrictions else None,
        max_stay=row.max_stay if restrictions else None,
        closed_to_arrival=row.closed_to_arrival if restrictions else None,
        closed_to_departure=row.closed_to_departure if restrictions else None,
    )
