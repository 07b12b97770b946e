"""Whether a stay may be booked, and if not, every rule it breaks, each named."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pms.core.ari import AriDay, RuleSource
from pms.core.dates import ONE_DAY, Stay
from pms.core.errors import Unprocessable


class Rule(StrEnum):
    MIN_STAY = "min_stay"
    MAX_STAY = "max_stay"
    CLOSED_TO_ARRIVAL = "closed_to_arrival"
    CLOSED_TO_DEPARTURE = "closed_to_departure"
    MAX_GUESTS = "max_guests"
    BOOKING_WINDOW = "booking_window"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class Reason:
    """One broken rule. `limit` is what the rule allows, `actual` what the request asked for."""

    rule: Rule
    detail: str
    dates: tuple[date, ...] = ()
    limit: int | None = None
    actual: int | None = None
    source: RuleSource | None = None


class StayNotBookable(Unprocessable):
    """A booking refused for breaking restrictions; one problem `errors` entry per reason."""

    code = "stay-not-bookable"
    title = "Stay not bookable"

    def __init__(self, reasons: Sequence[Reason]) -> None:
        super().__init__(
            "; ".join(reason.detail for reason in reasons),
            errors=[
                {
                    "rule": reason.rule.value,
                    "message": reason.detail,
                    "dates": [day.isoformat() for day in reason.dates],
                    "limit": reason.limit,
                    "actual": reason.actual,
                    "source": reason.source.value if reason.source else None,
                }
                for reason in reasons
            ],
        )
        self.reasons = tuple(reasons)


def rows_read_by(stay: Stay) -> Stay:
    """The dates whose ARI rows decide a stay: its nights plus the check-out date (for CTD)."""
    return Stay(stay.check_in, stay.check_out + ONE_DAY)


@dataclass(frozen=True, slots=True)
class BookingWindow:
    """How soon and how far ahead a stay may start, in days from the property's today."""

    min_lead_days: int = 0
    max_advance_days: int | None = None

    def __post_init__(self) -> None:
        if self.min_lead_days < 0:
            raise ValueError("min lead days cannot be negative")
        if self.max_advance_days is not None and self.max_advance_days < self.min_lead_days:
            raise ValueError("max advance days cannot be below min lead days")


def stay_restrictions(
    rows: Mapping[date, AriDay],
    stay: Stay,
    *,
    guests: int,
    max_guests: int,
    window: BookingWindow,
    today: date,
) -> tuple[Reason, ...]:
    """Every reason the stay cannot be booked; empty means bookable.

    `rows` must hold the nights of the stay and, for closed-to-departure, the check-out date.
    A night without a row (beyond the compiled horizon) counts as unavailable; a missing check-out
    row leaves departure open. Min and max stay are the check-in date's, as channels read them.
    """
    reasons: list[Reason] = []

    unavailable = tuple(
        day for day in stay.dates() if (row := rows.get(day)) is None or not row.available
    )
    if unavailable:
        reasons.append(
            Reason(
                Rule.UNAVAILABLE,
                "not available on " + ", ".join(d.isoformat() for d in unavailable),
                dates=unavailable,
            )
        )

    arrival = rows.get(stay.check_in)
    if arrival is not None:
        if stay.nights < arrival.min_stay:
            source = arrival.min_stay_source
            reasons.append(
                Reason(
                    Rule.MIN_STAY,
                    f"the {source.value} min stay for arrival on {stay.check_in} is "
                    f"{arrival.min_stay} nights; this stay has {stay.nights}",
                    dates=(stay.check_in,),
                    limit=arrival.min_stay,
                    actual=stay.nights,
                    source=source,
                )
            )
        if arrival.max_stay is not None and stay.nights > arrival.max_stay:
            reasons.append(
                Reason(
                    Rule.MAX_STAY,
                    f"the max stay for arrival on {stay.check_in} is {arrival.max_stay} nights; "
                    f"this stay has {stay.nights}",
                    dates=(stay.check_in,),
                    limit=arrival.max_stay,
                    actual=stay.nights,
                )
            )
        if arrival.closed_to_arrival:
            reasons.append(
                Reason(
                    Rule.CLOSED_TO_ARRIVAL,
                    f"no arrivals on {stay.check_in}",
                    dates=(stay.check_in,),
                )
            )

    departure = rows.get(stay.check_out)
    if departure is not None and departure.closed_to_departure:
        reasons.append(
            Reason(
                Rule.CLOSED_TO_DEPARTURE,
                f"no departures on {stay.check_out}",
                dates=(stay.check_out,),
            )
        )

    if guests > max_guests:
        reasons.append(
            Reason(
                Rule.MAX_GUESTS,
                f"the property sleeps at most {max_guests} guests; {guests} requested",
                limit=max_guests,
                actual=guests,
            )
        )

    lead_days = (stay.check_in - today).days
    if lead_days < window.min_lead_days:
        reasons.append(
            Reason(
                Rule.BOOKING_WINDOW,
                f"arrival must be at least {window.min_lead_days} days ahead; "
                f"{stay.check_in} is {lead_days} days from {today}",
                dates=(stay.check_in,),
                limit=window.min_lead_days,
                actual=lead_days,
            )
        )
    elif window.max_advance_days is not None and lead_days > window.max_advance_days:
        reasons.append(
            Reason(
                Rule.BOOKING_WINDOW,
                f"arrival can be at most {window.max_advance_days} days ahead; "
                f"{stay.check_in} is {lead_days} days from {today}",
                dates=(stay.check_in,),
                limit=window.max_advance_days,
                actual=lead_days,
            )
        )

    return tuple(reasons)
