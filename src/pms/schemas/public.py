"""Shapes of the public Direct Booking Engine API."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field, StringConstraints

from pms.models.booking import BookingStatus
from pms.schemas.booking import GuestInline
from pms.schemas.common import Input
from pms.schemas.dates import CheckOut, Day
from pms.schemas.rates import MoneyOut

Honeypot = Annotated[
    str,
    StringConstraints(max_length=200),
    Field(description="Leave empty. (A field humans never see; bots fill it in.)"),
]
ChildAge = Annotated[int, Field(ge=0, le=17)]


class PublicAgency(BaseModel):
    slug: str
    name: str


class PublicPhoto(BaseModel):
    id: uuid.UUID
    url: str
    caption: str | None


class PublicProperty(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    city: str | None
    country: str | None
    latitude: Decimal | None
    longitude: Decimal | None
    max_guests: int
    bedrooms: int
    bathrooms: Decimal
    amenities: list[str]
    instant_book: bool
    currency: str
    check_in_time: time
    check_out_time: time
    photos: list[PublicPhoto]
    from_price_minor: int | None = Field(
        default=None, description="Lowest nightly price in the next 12 months (minor units)."
    )


class StayRequest(Input):
    property_id: uuid.UUID
    check_in: Day
    check_out: CheckOut
    adults: int = Field(default=1, ge=1, le=50)
    children_ages: list[ChildAge] = Field(default_factory=list, max_length=20)
    pets: int = Field(default=0, ge=0, le=10)


class HoldRequest(StayRequest):
    website: Honeypot = ""
    email: EmailStr | None = Field(
        default=None,
        description="The guest's e-mail, when known: live holds are limited per e-mail as well "
        "as per client address and per property.",
    )


class Hold(BaseModel):
    hold_token: str = Field(description="Pass to POST /bookings to complete the booking.")
    expires_at: datetime
    property_id: uuid.UUID
    check_in: date
    check_out: date


class CheckoutRequest(Input):
    hold_token: Annotated[str, StringConstraints(min_length=10, max_length=200)]
    guest: GuestInline
    accepted_terms: Literal[True] = Field(description="The guest accepted the terms.")
    payment_method: Literal["offline", "stripe"] = Field(
        default="offline",
        description="offline: bank transfer or pay on arrival, booked (or requested) at once; "
        "stripe: a PaymentIntent. Instant book: the booking confirms when Stripe reports the "
        "payment succeeded. Request to book: the card is only authorised, the request is "
        "recorded once Stripe reports the authorisation, and the payment is captured when the "
        "agency approves (released when it declines).",
    )
    offline_method: Literal["bank_transfer", "pay_on_arrival"] = "bank_transfer"
    website: Honeypot = ""


class PublicBooking(BaseModel):
    reference: str
    status: BookingStatus
    property_id: uuid.UUID
    property_name: str
    check_in: date
    check_out: date
    nights: int
    adults: int
    children: int
    pets: int
    guest_name: str | None
    quote: dict[str, object] | None
    manage_url: str = Field(description="The guest's self-service link (keep it private).")
    manage_page_url: str = Field(
        description="The same booking's self-service page on the booking site (keep it private)."
    )
    payment: PaymentInfo | None = Field(
        default=None, description="At checkout: what the guest's browser needs to pay."
    )
    refund: MoneyOut | None = Field(
        default=None, description="After a cancellation: the refund the policy gave."
    )


class PaymentInfo(BaseModel):
    payment_id: uuid.UUID
    provider: str
    status: str
    amount: MoneyOut
    client: dict[str, object] = Field(
        description="Stripe: payment_intent_id, client_secret, publishable_key; offline: the "
        "method and the transfer reference."
    )


class SearchHit(BaseModel):
    property: PublicProperty
    rate_plan_id: uuid.UUID
    nights: int
    total: MoneyOut
    distance_km: float | None


class SearchResults(BaseModel):
    check_in: date
    check_out: date
    nights: int
    count: int = Field(description="Bookable properties in all (results holds up to `limit`).")
    results: list[SearchHit]


class CalendarDayOut(BaseModel):
    date: date
    available: bool
    can_check_in: bool
    can_check_out: bool
    min_stay: int | None
    max_stay: int | None
    price_minor: int | None


class PublicCalendar(BaseModel):
    property_id: uuid.UUID
    currency: str
    start: date
    end: date
    days: list[CalendarDayOut]
