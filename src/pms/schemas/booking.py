"""Booking and block request and response shapes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import EmailStr, Field, StringConstraints, model_validator

from pms.models.block import BlockKind
from pms.models.booking import BookingSource, BookingStatus
from pms.schemas.common import Input, ReadModel
from pms.schemas.guest import GuestName, Language, Phone
from pms.schemas.rates import MoneyOut

Notes = Annotated[str, StringConstraints(max_length=5000)]
ChannelId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
MAX_STAY_NIGHTS = 366


def _check_range(start: date, end: date, what: str) -> None:
    if end <= start:
        raise ValueError(f"{what}: the end must be after the start (ranges are [start, end))")
    if (end - start).days > MAX_STAY_NIGHTS:
        raise ValueError(f"{what}: at most {MAX_STAY_NIGHTS} nights")


class GuestInline(Input):
    email: EmailStr
    first_name: GuestName | None = None
    last_name: GuestName
    phone: Phone | None = None
    language: Language = "en"


class BookingCreate(Input):
    property_id: uuid.UUID
    check_in: date
    check_out: date = Field(description="Departure day; the stay is [check_in, check_out).")
    adults: int = Field(default=1, ge=1, le=100)
    children: int = Field(default=0, ge=0, le=100)
    infants: int = Field(default=0, ge=0, le=100)
    pets: int = Field(default=0, ge=0, le=20)
    guest_id: uuid.UUID | None = None
    guest: GuestInline | None = Field(
        default=None, description="Found by e-mail in this agency, or created."
    )
    source: BookingSource = BookingSource.MANUAL
    channel_booking_id: ChannelId | None = None
    notes: Notes | None = None
    status: BookingStatus = Field(
        default=BookingStatus.CONFIRMED,
        description="inquiry, requested, hold or confirmed.",
    )
    children_ages: list[Annotated[int, Field(ge=0, le=17)]] | None = Field(
        default=None,
        max_length=100,
        description="One age per child, for the visitor tax; without it children count as paying.",
    )
    override_restrictions: bool = Field(
        default=False,
        description="Book although the stay breaks rate restrictions (min stay, closed to "
        "arrival, booking window…). Only for roles that may change rates; others get 403.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _check_range(self.check_in, self.check_out, "stay")
        if self.guest_id is not None and self.guest is not None:
            raise ValueError("give guest_id or guest, not both")
        if self.status is not BookingStatus.HOLD and self.guest_id is None and self.guest is None:
            raise ValueError("give guest_id or guest (only a hold may start without a guest)")
        if self.children_ages is not None and len(self.children_ages) != self.children:
            raise ValueError("children_ages must list one age per child")
        return self


class BookingUpdate(Input):
    version: int = Field(ge=1, description="The version you read; a stale one is a 409.")
    property_id: uuid.UUID | None = None
    check_in: date | None = None
    check_out: date | None = None
    adults: int | None = Field(default=None, ge=1, le=100)
    children: int | None = Field(default=None, ge=0, le=100)
    infants: int | None = Field(default=None, ge=0, le=100)
    pets: int | None = Field(default=None, ge=0, le=20)
    notes: Notes | None = None


class GuestSummary(ReadModel):
    id: uuid.UUID
    first_name: str | None
    last_name: str | None
    email: str | None = Field(description="Hidden (null) for the owner role.")
    phone: str | None = Field(description="Hidden (null) for the owner role.")


class Booking(ReadModel):
    id: uuid.UUID
    agency_id: uuid.UUID
    reference: str
    property_id: uuid.UUID
    guest: GuestSummary | None = Field(description="None only for a hold still in checkout.")
    status: BookingStatus
    source: BookingSource
    channel_booking_id: str | None
    check_in: date
    check_out: date
    nights: int
    adults: int
    children: int
    infants: int
    pets: int
    notes: str | None
    hold_expires_at: datetime | None
    quote: dict[str, Any] | None
    refund: MoneyOut | None = Field(
        default=None,
        description="After a cancellation: what it gave back (the cancellation policy's amount "
        "as of the property's today, or the amount a manager chose).",
    )
    version: int
    created_at: datetime
    updated_at: datetime


class BookingCancel(Input):
    refund_minor: int | None = Field(
        default=None,
        ge=0,
        description="Refund this amount (minor units of the stay's currency) instead of what "
        "the cancellation policy gives; at most the stay's total. The choice is audited.",
    )


class BlockCreate(Input):
    property_id: uuid.UUID
    start: date
    end: date = Field(description="First free day again; the block is [start, end).")
    kind: BlockKind = BlockKind.MANUAL
    note: Notes | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _check_range(self.start, self.end, "block")
        return self


class Block(ReadModel):
    id: uuid.UUID
    agency_id: uuid.UUID
    property_id: uuid.UUID
    start: date
    end: date
    kind: BlockKind
    note: str | None
    created_at: datetime


class Day(ReadModel):
    date: date
    status: str = Field(description="free, booked, hold or blocked")
    booking_id: uuid.UUID | None = None
    block_id: uuid.UUID | None = None
    label: str | None = None


class PropertyCalendar(ReadModel):
    property_id: uuid.UUID
    days: list[Day]


class Calendar(ReadModel):
    start: date
    end: date
    properties: list[PropertyCalendar]


class OccupiedRangeOut(ReadModel):
    """A stay, live hold or block as one range ``[start, end)`` (its own dates, which may run
    past the requested window)."""

    start: date
    end: date = Field(description="First free day again: the range is [start, end).")
    kind: str = Field(description="booked, hold or blocked (as a day's status)")
    label: str = Field(description="The booking reference, or the kind of block")
    booking_id: uuid.UUID | None = None
    reference: str | None = None
    status: BookingStatus | None = Field(default=None, description="The booking's status")
    source: BookingSource | None = None
    guest_name: str | None = Field(default=None, description="Not shown to owners")
    block_id: uuid.UUID | None = None
    block_kind: BlockKind | None = None


class PropertyRanges(ReadModel):
    property_id: uuid.UUID
    ranges: list[OccupiedRangeOut]


class CalendarRanges(ReadModel):
    start: date
    end: date
    properties: list[PropertyRanges]
