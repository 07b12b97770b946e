"""Property request and response shapes."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from pms.schemas.common import Input, ReadModel

PropertyID = Annotated[uuid.UUID, Field(description="Property id")]

_ZONES = zoneinfo.available_timezones()


def _check_zone(value: str) -> str:
    if value not in _ZONES:
        raise ValueError("must be an IANA time zone such as Europe/Berlin")
    return value


TimeZone = Annotated[str, AfterValidator(_check_zone), Field(examples=["Europe/Berlin"])]
Currency = Annotated[
    str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217", examples=["EUR"])
]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), Field(description="ISO 3166-1")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Short = Annotated[str, StringConstraints(max_length=200)]


class Amenity(StrEnum):
    WIFI = "wifi"
    KITCHEN = "kitchen"
    PARKING = "parking"
    POOL = "pool"
    WASHER = "washer"
    DRYER = "dryer"
    AIR_CONDITIONING = "air_conditioning"
    HEATING = "heating"
    TV = "tv"
    PETS_ALLOWED = "pets_allowed"
    SAUNA = "sauna"
    BALCONY = "balcony"
    GARDEN = "garden"
    SEA_VIEW = "sea_view"
    ELEVATOR = "elevator"
    WHEELCHAIR_ACCESSIBLE = "wheelchair_accessible"
    EV_CHARGER = "ev_charger"
    WORKSPACE = "workspace"
    CRIB = "crib"
    BBQ = "bbq"


Amenities = Annotated[list[Amenity], Field(max_length=len(Amenity))]


class _PropertyFields(Input):
    description: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    bedrooms: int = Field(default=0, ge=0, le=100)
    bathrooms: Decimal = Field(default=Decimal(0), ge=0, le=100, decimal_places=1)
    address_line1: Short | None = None
    address_line2: Short | None = None
    city: Annotated[str, StringConstraints(max_length=100)] | None = None
    postal_code: Annotated[str, StringConstraints(max_length=20)] | None = None
    country: Country | None = None
    latitude: Decimal | None = Field(default=None, ge=-90, le=90, decimal_places=6)
    longitude: Decimal | None = Field(default=None, ge=-180, le=180, decimal_places=6)
    check_in_time: time = time(15, 0)
    check_out_time: time = time(10, 0)
    owner_user_id: uuid.UUID | None = Field(
        default=None, description="A member of the agency who owns this property."
    )
    is_listed: bool = Field(default=False, description="Shown by the public booking engine.")
    instant_book: bool = Field(default=True, description="False: direct guests send a request.")
    amenities: Amenities = Field(default_factory=list)


class PropertyCreate(_PropertyFields):
    name: Name
    timezone: TimeZone
    currency: Currency
    max_guests: int = Field(ge=1, le=100)


class PropertyUpdate(Input):
    name: Name | None = None
    description: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    timezone: TimeZone | None = None
    currency: Currency | None = None
    max_guests: int | None = Field(default=None, ge=1, le=100)
    bedrooms: int | None = Field(default=None, ge=0, le=100)
    bathrooms: Decimal | None = Field(default=None, ge=0, le=100, decimal_places=1)
    address_line1: Short | None = None
    address_line2: Short | None = None
    city: Annotated[str, StringConstraints(max_length=100)] | None = None
    postal_code: Annotated[str, StringConstraints(max_length=20)] | None = None
    country: Country | None = None
    latitude: Decimal | None = Field(default=None, ge=-90, le=90, decimal_places=6)
    longitude: Decimal | None = Field(default=None, ge=-180, le=180, decimal_places=6)
    check_in_time: time | None = None
    check_out_time: time | None = None
    owner_user_id: uuid.UUID | None = None
    is_listed: bool | None = None
    instant_book: bool | None = None
    amenities: Amenities | None = None


class Property(ReadModel):
    id: uuid.UUID
    agency_id: uuid.UUID
    name: str
    description: str | None
    timezone: str
    currency: str
    max_guests: int
    bedrooms: int
    bathrooms: Decimal
    address_line1: str | None
    address_line2: str | None
    city: str | None
    postal_code: str | None
    country: str | None
    latitude: Decimal | None
    longitude: Decimal | None
    check_in_time: time
    check_out_time: time
    owner_user_id: uuid.UUID | None
    is_listed: bool
    instant_book: bool
    amenities: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
