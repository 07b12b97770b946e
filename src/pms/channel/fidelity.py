"""Restriction fidelity: where a platform cannot express one of Core's rules, the engine sends
what the platform can show instead (``engine.values.expressed``) and says so here, per listing
and per night: the rule, the nights, what Core wants and what the platform shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from pms.channel.adapters import fidelity_of
from pms.channel.engine.values import Gap, core_values, expressed
from pms.core import ari_store
from pms.models.channel import ChannelMapping

RULES = {
    "min_stay": "minimum stay",
    "max_stay": "maximum stay",
    "closed_to_arrival": "closed to arrival",
    "closed_to_departure": "closed to departure",
}
PLATFORM_NAMES = {"airbnb": "Airbnb", "booking_com": "Booking.com", "expedia": "Expedia"}


@dataclass
class RuleWarning:
    mapping_id: str
    remote_listing_id: str
    rule: str
    wanted: str
    shown: str
    nights: list[dict[str, str]]  # half-open ranges {"start", "end"}
    message: str


async def gaps(
    session: AsyncSession, mapping: ChannelMapping, start: date, end: date
) -> dict[date, list[Gap]]:
    """Per night, the rules of Core the mapped platform cannot show (nights without: absent)."""
    fidelity = fidelity_of(mapping.platform)
    out: dict[date, list[Gap]] = {}
    for row in await ari_store.stored_rows(session, mapping.rate_plan_id, start, end):
        _, lost = expressed(core_values(row, mapping), fidelity)
        if lost:
            out[row.day] = lost
    return out


async def warnings(
    session: AsyncSession, mapping: ChannelMapping, start: date, end: date
) -> list[RuleWarning]:
    """The gaps of a listing as warnings: one per rule and (wanted, shown), with its nights as
    ranges."""
    grouped: dict[tuple[str, str, str], list[date]] = {}
    for night, lost in sorted((await gaps(session, mapping, start, end)).items()):
        for gap in lost:
            grouped.setdefault((gap.rule, gap.wanted, gap.shown), []).append(night)
    name = PLATFORM_NAMES.get(mapping.platform, mapping.platform)
    out = []
    for (rule, wanted, shown), nights in grouped.items():
        ranges = _ranges(nights)
        span = ", ".join(f"{r['start']} to {r['end']}" for r in ranges[:3])
        more = f" and {len(ranges) - 3} more ranges" if len(ranges) > 3 else ""
        out.append(
            RuleWarning(
                mapping_id=str(mapping.id),
                remote_listing_id=mapping.remote_listing_id,
                rule=rule,
                wanted=wanted,
                shown=shown,
                nights=ranges,
                message=f"{name} cannot show the {RULES.get(rule, rule)} '{wanted}' on "
                f"{len(nights)} nights ({span}{more}): it shows {shown} instead.",
            )
        )
    return out


def _ranges(nights: list[date]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    start = prev = None
    for night in nights:
        if start is not None and prev is not None and night == prev + timedelta(days=1):
            prev = night
            continue
        if start is not None and prev is not None:
            out.append({"start": start.isoformat(), "end": (prev + timedelta(days=1)).isoformat()})
        start = prev = night
    if start is not None and prev is not None:
        out.append({"start": start.isoformat(), "end": (prev + timedelta(days=1)).isoformat()})
    return out
