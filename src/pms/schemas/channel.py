"""Channel Manager request and response shapes (credentials go in, never out)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal, Self

from pydantic import Field, model_validator

from pms.models.channel import ConnectionStatus, MarkupKind
from pms.schemas.common import Input, ReadModel


class ConnectionCreate(Input):
    platform: Literal["airbnb", "booking_com", "expedia", "fewo_direkt", "google"]
    name: str | None = Field(default=None, max_length=200)
    authorization_code: str | None = Field(
        default=None, max_length=2000, description="OAuth authorization code (Airbnb)."
    )
    credentials: dict[str, str] | None = Field(
        default=None, description="Machine-account credentials (platforms without OAuth)."
    )

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.authorization_code is None) == (self.credentials is None):
            raise ValueError("give authorization_code or credentials (one of them)")
        return self


class ConnectionUpdate(Input):
    status: Literal[ConnectionStatus.ACTIVE, ConnectionStatus.PAUSED]


class ListingHealth(ReadModel):
    lag_seconds: float | None = Field(
        description="Age of the oldest change not yet on the platform (null: none pending)."
    )
    pending_ranges: list[dict[str, str]]
    breaker: str = Field(description="closed, open or half_open")
    unacknowledged_inbound: int = 0


class FidelityWarning(ReadModel):
    """A rule of Core the platform cannot express: which, on which nights, and what the
    platform shows instead."""

    mapping_id: uuid.UUID
    remote_listing_id: str
    rule: Literal["min_stay", "max_stay", "closed_to_arrival", "closed_to_departure"]
    wanted: str
    shown: str
    nights: list[dict[str, str]] = Field(description="Half-open ranges {start, end}.")
    message: str


class Connection(ReadModel):
    id: uuid.UUID
    platform: str
    name: str
    status: str
    account_id: str
    last_push_at: datetime | None
    last_pull_at: datetime | None
    last_error: str | None
    failures_in_row: int
    failing_since: datetime | None
    created_at: datetime
    health: ListingHealth | None = None
    warnings: list[FidelityWarning] = Field(
        default_factory=list,
        description="Rules of Core the platform cannot express, per mapped listing.",
    )


class ConnectionTest(ReadModel):
    ok: bool
    status: str
    detail: str


class RemoteListing(ReadModel):
    id: str
    currency: str
    name: str | None
    mapping_id: uuid.UUID | None
    property_id: uuid.UUID | None


class MappingCreate(Input):
    remote_listing_id: str = Field(min_length=1, max_length=100)
    property_id: uuid.UUID
    rate_plan_id: uuid.UUID | None = Field(default=None, description="Default: the default plan.")
    markup_kind: MarkupKind = MarkupKind.NONE
    markup_value: int = Field(
        default=0,
        ge=-1_000_000,
        le=1_000_000,
        description="percent: basis points (12.5 % = 1250); fixed: minor units per night.",
    )
    sync_availability: bool = True
    sync_prices: bool = True
    sync_restrictions: bool = True


class MappingUpdate(Input):
    rate_plan_id: uuid.UUID | None = None
    markup_kind: MarkupKind | None = None
    markup_value: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    sync_availability: bool | None = None
    sync_prices: bool | None = None
    sync_restrictions: bool | None = None


class Mapping(ReadModel):
    id: uuid.UUID
    connection_id: uuid.UUID
    platform: str
    remote_listing_id: str
    property_id: uuid.UUID
    rate_plan_id: uuid.UUID
    markup_kind: str
    markup_value: int
    sync_availability: bool
    sync_prices: bool
    sync_restrictions: bool
    last_push_at: datetime | None
    last_pull_at: datetime | None
    last_error: str | None
    failures_in_row: int
    health: ListingHealth | None = None


class SyncLogEntry(ReadModel):
    id: int
    mapping_id: uuid.UUID | None
    kind: str
    start: date | None
    end: date | None
    nights: int
    calls: int
    attempts: int
    latency_ms: int
    outcome: str
    error: str | None
    details: dict[str, Any]
    started_at: datetime
    finished_at: datetime


class DeadLetter(ReadModel):
    id: uuid.UUID
    mapping_id: uuid.UUID
    start: date
    end: date
    attempts: int
    error: str
    created_at: datetime
    retried_at: datetime | None


class ReconcileQueued(ReadModel):
    sync_log_id: int = Field(description="The sync log entry that reports the run's outcome.")
    outcome: str = Field(description="`queued`; the entry goes `running`, then its outcome.")
    location: str = Field(description="Where to follow it (also the `Location` header).")


class ChannelConflict(ReadModel):
    id: uuid.UUID
    property_id: uuid.UUID
    booking_id: uuid.UUID
    clashing_booking_id: uuid.UUID | None
    clashing_block_id: uuid.UUID | None
    start: date
    end: date
    held_block_ids: list[uuid.UUID] = Field(
        description="Blocks closing the stay's free nights everywhere until it is resolved."
    )
    resolution: str | None
    created_at: datetime
    resolved_at: datetime | None


class ConflictResolve(Input):
    action: Literal["move", "cancel", "accept_overbooked"]
    property_id: uuid.UUID | None = None
    check_in: date | None = None
    check_out: date | None = None


class ChannelDay(ReadModel):
    date: date
    occupied_by: dict[str, Any] | None
    channels: list[dict[str, Any]]


class WebhookReceipt(ReadModel):
    received: bool
    message_id: str
    outcome: Literal["accepted", "duplicate"]


class ListingFieldWarning(ReadModel):
    """A listing Google would refuse: the fields it lacks (it is left out of the feed)."""

    listing_id: str
    property_id: uuid.UUID
    missing: list[str] = Field(
        description="Required by Google and missing: the listing is left out."
    )


class GoogleListingFeed(ReadModel):
    """Google Vacation Rentals: the Hotel List Feed of a connection, and how guests land."""

    feed: str = Field(description="Hotel List Feed XML of the complete listings.")
    listings: int
    warnings: list[ListingFieldWarning]
    landing_page_template: str = Field(
        description="Hotel Center landing page URL template (Google's variables)."
    )


class GooglePropertyData(ReadModel):
    pushed: list[str] = Field(description="Listing ids whose Property Data Google accepted.")
    failed: dict[str, str] = Field(description="Listing id → why Google refused it.")
