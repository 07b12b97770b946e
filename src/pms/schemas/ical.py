"""iCal export and import request and response shapes. Feed URLs are only ever shown redacted."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from pms.models.ical import FeedSource
from pms.schemas.common import Input, ReadModel

FeedName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
FeedUrl = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=2000)]


class ExportCreate(Input):
    exclude_source: FeedSource | None = Field(
        default=None,
        description="Leave out what was imported from this platform (no echo): give each "
        "platform its own URL with its own source excluded.",
    )
    include_holds: bool = Field(
        default=False, description="Also publish checkouts in progress (holds) as unavailable."
    )


class Export(ReadModel):
    id: uuid.UUID
    property_id: uuid.UUID
    token_hint: str = Field(description="The first characters of the token, to tell URLs apart.")
    exclude_source: FeedSource | None
    include_holds: bool
    created_at: datetime
    rotated_at: datetime | None


class ExportIssued(Export):
    url: str = Field(description="The secret feed URL. Shown only now: store it or rotate later.")


class FeedCreate(Input):
    url: FeedUrl = Field(description="The platform's export URL (http or https). Kept secret.")
    name: FeedName
    source: FeedSource
    poll_interval_seconds: int = Field(default=600, ge=300, le=86_400)


class FeedHealth(ReadModel):
    status: Literal["pending", "ok", "failing", "stale"]
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    event_count: int | None
    consecutive_failures: int
    lag_seconds: int | None = Field(description="Seconds since the last successful sync.")
    next_poll_at: datetime
    open_conflicts: int


class Feed(ReadModel):
    id: uuid.UUID
    property_id: uuid.UUID
    name: str
    source: FeedSource
    url: str = Field(description="Redacted: scheme and host, and a fingerprint of the rest.")
    poll_interval_seconds: int
    created_at: datetime
    health: FeedHealth


class NightSpan(ReadModel):
    start: date
    end: date


class SyncResult(ReadModel):
    outcome: str = Field(description="ParsedFeed, NotModified, FetchError or ParseError")
    held: str | None = Field(description="Why nothing was changed (the last good state is kept).")
    added: list[NightSpan]
    removed: list[NightSpan]
    conflicts: int
    alerts: list[str]
    feed: Feed


class Conflict(ReadModel):
    id: uuid.UUID
    feed_id: uuid.UUID
    property_id: uuid.UUID
    start: date
    end: date
    clash_type: str
    clash_start: date
    clash_end: date
    booking_id: uuid.UUID | None
    detected_at: datetime
    resolved_at: datetime | None


class Alert(ReadModel):
    id: uuid.UUID
    kind: str
    feed_id: uuid.UUID | None
    property_id: uuid.UUID | None
    message: str
    created_at: datetime
    resolved_at: datetime | None
