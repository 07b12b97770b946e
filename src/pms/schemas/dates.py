"""Dates and date ranges in requests: one window every date must fall in, and one check of a
half-open range `[start, end)` (end after start, at most so many days), reported on the end
field. Bodies and query parameters use the same types, so every endpoint says the same thing."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

# Nothing is booked, priced or blocked outside this window; beyond it date arithmetic would
# only overflow (0001-01-01 minus a day, 9999-12-31 plus one).
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
# A stay (booking, hold, quote, search), a block and a calendar or ARI window: one year at most,
# where no smaller rule (a property's max stay, the agency's public limit) applies.
MAX_STAY_NIGHTS = 366
# Rate rules (seasons, per-date overrides) may span two years.
MAX_RULE_DAYS = 731


def _in_window(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
    return value


Day = Annotated[date, AfterValidator(_in_window)]


def range_error(start: date, end: date, start_name: str, max_days: int, unit: str) -> str | None:
    """What is wrong with `[start, end)` as seen from its end, or None."""
    if end <= start:
        return f"must be after {start_name} (ranges are [{start_name}, end))"
    if (end - start).days > max_days:
        return f"at most {max_days} {unit} after {start_name}"
    return None


def ends_after(start_name: str, max_days: int = MAX_STAY_NIGHTS, unit: str = "nights") -> Any:
    """Validator of a range's end field: checked against the start field declared before it."""

    def check(end: date, info: ValidationInfo) -> date:
        # The start field may be absent (a partial update) or have failed its own checks.
        start = info.data.get(start_name) if info.data else None
        if isinstance(start, date):
            error = range_error(start, end, start_name, max_days, unit)
            if error:
                raise ValueError(error)
        return end

    return AfterValidator(check)


CheckOut = Annotated[
    Day,
    ends_after("check_in"),
    Field(description="Departure day; the stay is [check_in, check_out)."),
]
StayEnd = Annotated[Day, ends_after("start", unit="days")]
RuleEnd = Annotated[Day, ends_after("start", MAX_RULE_DAYS, "days")]


class DateWindow(BaseModel):
    """`start` and `end` query parameters: a window `[start, end)` of at most 366 days."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    start: Day = Field(description="First day.")
    end: StayEnd = Field(description="First day after the window: it covers [start, end).")


class StayDates(BaseModel):
    """`check_in` and `check_out` query parameters: a stay of at most 366 nights."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    check_in: Day
    check_out: CheckOut
