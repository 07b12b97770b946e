"""Quote request and response: a priced stay, line by line, with its refund schedule."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Self

from pydantic import BaseModel, Field, model_validator

from pms.schemas.common import Input
from pms.schemas.dates import CheckOut, Day
from pms.schemas.rates import MoneyOut


class QuoteRequest(Input):
    property_id: uuid.UUID
    check_in: Day
    check_out: CheckOut
    adults: int = Field(default=1, ge=1, le=100)
    children_ages: list[int] = Field(
        default_factory=list,
        max_length=50,
        description="Whole years on the check-in date, one per child.",
    )
    pets: int = Field(default=0, ge=0, le=20)
    rate_plan_id: uuid.UUID | None = Field(default=None, description="Default plan if omitted.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if any(not 0 <= age <= 17 for age in self.children_ages):
            raise ValueError("children's ages must be 0 to 17")
        return self


class QuoteLineOut(BaseModel):
    kind: str = Field(description="night, discount, fee, vat or visitor_tax")
    code: str
    label: str
    amount: MoneyOut
    tax_class: str | None
    date: date | None
    quantity: int
    percent: Decimal | None


class TaxOut(BaseModel):
    tax_class: str
    label: str
    rate_percent: Decimal
    inclusive: bool = Field(description="Inclusive VAT is inside the lines, not added again.")
    base: MoneyOut
    amount: MoneyOut


class RefundStepOut(BaseModel):
    first_day: date | None = Field(description="Cancelling from this day (null: any time before)")
    last_day: date | None = Field(description="… up to and including this day (null: any later)")
    refund_percent: Decimal
    refund: MoneyOut


class ReasonOut(BaseModel):
    rule: str = Field(
        description="min_stay, max_stay, closed_to_arrival, closed_to_departure, max_guests, "
        "booking_window or unavailable"
    )
    message: str
    dates: list[date]
    limit: int | None
    actual: int | None
    source: str | None = Field(description="For min stay: plan, season or override.")


class Quote(BaseModel):
    property_id: uuid.UUID
    rate_plan_id: uuid.UUID
    check_in: date
    check_out: date
    nights: int
    adults: int
    children_ages: list[int]
    pets: int
    currency: str
    lines: list[QuoteLineOut]
    accommodation_subtotal: MoneyOut = Field(description="The nights before any discount.")
    discount: MoneyOut
    fees: MoneyOut
    taxes: list[TaxOut]
    visitor_tax: MoneyOut
    total: MoneyOut = Field(description="Exactly the sum of `lines`.")
    cancellation: list[RefundStepOut]
    bookable: bool
    reasons: list[ReasonOut]
