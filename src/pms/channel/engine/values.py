"""Core's daily ARI row → what a mapped listing should show: markup, and only what it syncs."""

from __future__ import annotations

from decimal import Decimal

from pms.channel.adapters.base import NightValues
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


def platform_values(row: AriDay, mapping: ChannelMapping) -> NightValues:
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
