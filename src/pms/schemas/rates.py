"""Rate plans, seasons, per-date overrides, fees, tax classes, visitor tax, cancellation
policies, property pricing assignment and ARI rows: request and response shapes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Self

from pydantic import AfterValidator, AliasChoices, BaseModel, Field, model_validator

from pms.models.rates import FeeKind
from pms.schemas.common import Input, ReadModel
from pms.schemas.property import Currency, Name

MAX_MINOR = 100_000_000
MAX_RANGE_DAYS = 731
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2199, 12, 31)


def _plausible(value: date) -> date:
    # Far-off dates would only overflow date arithmetic; nothing is priced centuries ahead.
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
    return value


Day = Annotated[date, AfterValidator(_plausible)]
Minor = Annotated[int, Field(ge=0, le=MAX_MINOR, description="Minor units (cents).")]
Nights = Annotated[int, Field(ge=1, le=MAX_RANGE_DAYS)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=3)]
Code = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")]
Label = Annotated[str, Field(max_length=200)]
Weekday = Annotated[int, Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")]
WeekdayPrices = Annotated[
    dict[Weekday, Minor],
    Field(description="Weekday (0 = Monday) → nightly price in minor units."),
]


def check_range(start: date, end: date, what: str) -> None:
    if end <= start:
        raise ValueError(f"{what}: the end must be after the start (ranges are [start, end))")
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValueError(f"{what}: at most {MAX_RANGE_DAYS} days")


class MoneyOut(BaseModel):
    amount_minor: int
    currency: str
    amount: str = Field(description="The same amount in major units, as an exact decimal.")


class LosDiscountIn(Input):
    min_nights: Nights
    percent: Percent


class RatePlanCreate(Input):
    name: Name
    is_default: bool | None = Field(
        default=None, description="Default plan of the property (the first plan always is)."
    )
    base_price_minor: Minor
    default_min_stay: Nights = 1
    default_max_stay: Nights | None = None
    weekday_prices: WeekdayPrices = Field(default_factory=dict)
    los_discounts: list[LosDiscountIn] = Field(default_factory=list, max_length=20)
    min_lead_days: int = Field(default=0, ge=0, le=3650)
    max_advance_days: int | None = Field(default=None, ge=0, le=3650)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.default_max_stay is not None and self.default_max_stay < self.default_min_stay:
            raise ValueError("default_max_stay must be at least default_min_stay")
        if self.max_advance_days is not None and self.max_advance_days < self.min_lead_days:
            raise ValueError("max_advance_days must be at least min_lead_days")
        return self


class RatePlanUpdate(Input):
    name: Name | None = None
    is_default: bool | None = Field(default=None, description="true makes this plan the default")
    base_price_minor: Minor | None = None
    default_min_stay: Nights | None = None
    default_max_stay: Nights | None = None
    weekday_prices: WeekdayPrices | None = None
    los_discounts: list[LosDiscountIn] | None = Field(default=None, max_length=20)
    min_lead_days: int | None = Field(default=None, ge=0, le=3650)
    max_advance_days: int | None = Field(default=None, ge=0, le=3650)


class LosDiscountOut(BaseModel):
    min_nights: int
    percent: Decimal


class RatePlan(BaseModel):
    id: uuid.UUID
    property_id: uuid.UUID
    name: str
    is_default: bool
    currency: str
    base_price_minor: int
    default_min_stay: int
    default_max_stay: int | None
    weekday_prices: dict[int, int]
    los_discounts: list[LosDiscountOut]
    min_lead_days: int
    max_advance_days: int | None
    ari_start: date = Field(description="First date with a stored ARI row.")
    ari_end: date = Field(description="First date past the stored ARI rows (24 months ahead).")
    created_at: datetime
    updated_at: datetime


class SeasonCreate(Input):
    name: Label = ""
    start: Day
    end: Day = Field(description="First day after the season; it covers [start, end).")
    price_minor: Minor
    min_stay: Nights | None = None
    weekday_prices: WeekdayPrices = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        check_range(self.start, self.end, "season")
        return self


class SeasonUpdate(Input):
    name: Label | None = None
    start: Day | None = None
    end: Day | None = None
    price_minor: Minor | None = None
    min_stay: Nights | None = None
    weekday_prices: WeekdayPrices | None = None


class Season(BaseModel):
    id: uuid.UUID
    rate_plan_id: uuid.UUID
    name: str
    start: date
    end: date
    price_minor: int
    currency: str
    min_stay: int | None
    weekday_prices: dict[int, int]


class DayRange(Input):
    """Per-date overrides for `[start, end)`. A field left out keeps each date's current value;
    `null` clears it (back to the season or plan)."""

    start: Day
    end: Day
    price_minor: Minor | None = Field(
        default=None, validation_alias=AliasChoices("price_minor", "price")
    )
    min_stay: Nights | None = None
    max_stay: Nights | None = None
    closed: bool | None = None
    closed_to_arrival: bool | None = None
    closed_to_departure: bool | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        check_range(self.start, self.end, "range")
        return self


class DaysUpdate(Input):
    ranges: list[DayRange] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        total = sum((r.end - r.start).days for r in self.ranges)
        if total > MAX_RANGE_DAYS:
            raise ValueError(f"at most {MAX_RANGE_DAYS} dates per request, got {total}")
        return self


class DaysUpdated(BaseModel):
    rate_plan_id: uuid.UUID
    days_changed: int = Field(description="Dates whose overrides were written or cleared.")


class TaxClassCreate(Input):
    code: Code
    label: Label = ""
    rate_percent: Percent
    inclusive: bool = False


class TaxClassUpdate(Input):
    code: Code | None = None
    label: Label | None = None
    rate_percent: Percent | None = None
    inclusive: bool | None = None


class TaxClass(ReadModel):
    id: uuid.UUID
    code: str
    label: str
    rate_percent: Decimal
    inclusive: bool


class FeeCreate(Input):
    code: Code
    label: Label = ""
    kind: FeeKind
    currency: Currency
    amount_minor: Minor = 0
    percent: Percent | None = None
    tax_class_id: uuid.UUID | None = None
    guests_included: int = Field(default=0, ge=0, le=100)


class FeeUpdate(Input):
    code: Code | None = None
    label: Label | None = None
    kind: FeeKind | None = None
    currency: Currency | None = None
    amount_minor: Minor | None = None
    percent: Percent | None = None
    tax_class_id: uuid.UUID | None = None
    guests_included: int | None = Field(default=None, ge=0, le=100)


class Fee(ReadModel):
    id: uuid.UUID
    code: str
    label: str
    kind: FeeKind
    currency: str
    amount_minor: int
    percent: Decimal | None
    tax_class_id: uuid.UUID | None
    guests_included: int


class VisitorTaxCreate(Input):
    name: Name
    currency: Currency
    amount_minor: Minor = Field(description="Per taxable person and night.")
    child_age_limit: int = Field(ge=0, le=30, description="Children of this age and older pay.")
    max_nights: int | None = Field(default=None, ge=0, le=MAX_RANGE_DAYS)


class VisitorTaxUpdate(Input):
    name: Name | None = None
    currency: Currency | None = None
    amount_minor: Minor | None = None
    child_age_limit: int | None = Field(default=None, ge=0, le=30)
    max_nights: int | None = Field(default=None, ge=0, le=MAX_RANGE_DAYS)


class VisitorTax(ReadModel):
    id: uuid.UUID
    name: str
    currency: str
    amount_minor: int
    child_age_limit: int
    max_nights: int | None


class RefundRuleIn(Input):
    days_before: int = Field(ge=0, le=3650)
    refund_percent: Percent


class CancellationPolicyCreate(Input):
    name: Name
    rules: list[RefundRuleIn] = Field(min_length=1, max_length=20)


class CancellationPolicyUpdate(Input):
    name: Name | None = None
    rules: list[RefundRuleIn] | None = Field(default=None, min_length=1, max_length=20)


class RefundRuleOut(BaseModel):
    days_before: int
    refund_percent: Decimal


class CancellationPolicy(BaseModel):
    id: uuid.UUID
    name: str
    rules: list[RefundRuleOut]


class PropertyPricingUpdate(Input):
    accommodation_tax_class_id: uuid.UUID | None = None
    visitor_tax_location_id: uuid.UUID | None = None
    cancellation_policy_id: uuid.UUID | None = None
    fee_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)


class PropertyPricing(BaseModel):
    property_id: uuid.UUID
    currency: str
    accommodation_tax_class_id: uuid.UUID | None
    visitor_tax_location_id: uuid.UUID | None
    cancellation_policy_id: uuid.UUID | None
    fee_ids: list[uuid.UUID]


class AriDayOut(BaseModel):
    date: date
    available: bool
    price: MoneyOut
    min_stay: int
    min_stay_source: str = Field(description="plan, season or override")
    max_stay: int | None
    closed_to_arrival: bool
    closed_to_departure: bool


class AriPlan(BaseModel):
    rate_plan_id: uuid.UUID
    name: str
    is_default: bool
    days: list[AriDayOut]


class Ari(BaseModel):
    property_id: uuid.UUID
    currency: str
    start: date
    end: date
    rate_plans: list[AriPlan]
