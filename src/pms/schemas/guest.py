"""Guest request and response shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, EmailStr, Field, StringConstraints

from pms.schemas.common import Input, ReadModel

GuestName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ()./-]{3,40}$")]
Language = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$"),
    Field(description="BCP 47 language, e.g. en or de-DE", examples=["de"]),
]


class GuestCreate(Input):
    email: EmailStr | None = None
    first_name: GuestName | None = None
    last_name: GuestName
    phone: Phone | None = None
    language: Language = "en"
    notes: Annotated[str, StringConstraints(max_length=5000)] | None = None


class GuestUpdate(Input):
    email: EmailStr | None = None
    first_name: GuestName | None = None
    last_name: GuestName | None = None
    phone: Phone | None = None
    language: Language | None = None
    notes: Annotated[str, StringConstraints(max_length=5000)] | None = None


class Guest(ReadModel):
    id: uuid.UUID
    agency_id: uuid.UUID
    email: str | None
    first_name: str | None
    last_name: str | None
    phone: str | None
    language: str
    notes: str | None
    erased_at: datetime | None
    created_at: datetime
    updated_at: datetime


class GuestExport(BaseModel):
    guest: Guest
    related: dict[str, list[dict[str, Any]]] = Field(
        default_factory=dict, description="Everything else held about the guest, by kind."
    )
    exported_at: datetime
