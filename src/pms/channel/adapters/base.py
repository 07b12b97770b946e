"""The one interface every platform adapter implements, and the values that cross it.

Values are platform-neutral: a night's availability, price (minor units of the listing's
currency, markup applied), min/max stay and closed to arrival/departure; ``None`` means "not
synced" (the mapping does not send it). Adapters turn runs of equal nights into the platform's
calls within its limits, and platform answers into ``PlatformError``s the engine can act on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, Protocol, runtime_checkable


class UnknownPlatform(Exception):
    """No adapter for this platform (yet)."""


class PlatformError(Exception):
    """A call the platform did not accept. ``retryable``: try again later (5xx, 429, timeout);
    ``retry_after``: seconds the platform asked us to wait. The message holds no secret."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


_retried: ContextVar[list[int] | None] = ContextVar("channel_requests_retried", default=None)


def retried_inside() -> None:
    """An adapter sent a request of one call again by itself (a later message of a push that
    waited out a 429, so the ones before it are not sent twice): the engine counts it as an
    attempt of the call, so the sync log shows the refusal."""
    box = _retried.get()
    if box is not None:
        box[0] += 1


@contextmanager
def counting_retries() -> Iterator[list[int]]:
    """The requests ``retried_inside`` counts while the block runs (``[n]``)."""
    box = [0]
    token = _retried.set(box)
    try:
        yield box
    finally:
        _retried.reset(token)


_sent: ContextVar[list[int] | None] = ContextVar("channel_requests_sent", default=None)


async def count_request(_request: object) -> None:
    """An ``httpx`` request hook for the adapters' clients: one more HTTP request sent inside
    ``counting_requests`` (retries, token exchanges and second requests of a call included)."""
    box = _sent.get()
    if box is not None:
        box[0] += 1


@contextmanager
def counting_requests() -> Iterator[list[int]]:
    """The HTTP requests the adapters send while the block runs (``[n]``)."""
    box = [0]
    token = _sent.set(box)
    try:
        yield box
    finally:
        _sent.reset(token)


class PartlyApplied(PlatformError):
    """The platform applied part of a batch and refused the rest: ``applied`` is acknowledged,
    only ``failed`` is tried again (``retryable``) or given up (a dead letter for those nights
    alone)."""

    def __init__(
        self, message: str, *, applied: Batch, failed: Batch, retryable: bool, status: int | None
    ) -> None:
        super().__init__(message, status=status, retryable=False)
        self.applied = applied
        self.failed = failed
        self.failed_retryable = retryable


class TokenExpired(PlatformError):
    """The access token no longer works; refreshing the credentials may help."""


class CredentialsRefused(PlatformError):
    """The platform refuses the account's credentials for good (revoked, expired grant)."""


class InvalidWebhook(Exception):
    """A webhook whose signature, timestamp or shape is wrong: refused, nothing stored."""


@dataclass(frozen=True)
class NightValues:
    available: bool | None = None
    price_minor: int | None = None
    min_stay: int | None = None
    max_stay: int | None = None
    closed_to_arrival: bool | None = None
    closed_to_departure: bool | None = None


@dataclass(frozen=True)
class Fidelity:
    """What a platform can show of Core's rules. A rule it cannot express is not dropped in
    silence: the engine sends what the platform can show instead and reports the difference
    (``engine.values.expressed``)."""

    max_los: int | None = None  # the longest minimum/maximum stay the platform takes
    clears_max_stay: bool = True  # "no maximum" can be expressed
    closed_to_arrival: bool = True
    closed_to_departure: bool = True


FULL_FIDELITY = Fidelity()


@dataclass(frozen=True)
class Run:
    """Nights ``[start, end)`` that all get the same values."""

    start: date
    end: date
    values: NightValues


@dataclass(frozen=True)
class Batch:
    """What one platform call carries."""

    runs: tuple[Run, ...]

    @property
    def nights(self) -> int:
        return sum((r.end - r.start).days for r in self.runs)


@dataclass(frozen=True)
class RemoteListing:
    id: str
    currency: str
    name: str | None = None


@dataclass(frozen=True)
class Grant:
    """Credentials after a code exchange or refresh, and the platform's account id."""

    account_id: str
    credentials: dict[str, Any]


@dataclass(frozen=True)
class InboundReservation:
    """A platform reservation as a snapshot of its current state (the newest wins)."""

    code: str
    listing_id: str
    status: str  # requested | confirmed | declined | expired | cancelled
    check_in: date
    check_out: date
    adults: int
    children: int
    first_name: str
    last_name: str
    nightly_price_minor: int
    total_minor: int
    currency: str
    expires_at: datetime | None = None
    pending_alteration_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    # The platform's price of each night (ISO date → minor units) where it gives one per night.
    night_prices_minor: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class InboundMessage:
    message_id: str
    event_type: str
    occurred_at: datetime
    reservation: InboundReservation | None


@dataclass(frozen=True)
class VerifiedWebhook:
    message_id: str
    event_type: str


@dataclass(frozen=True)
class PulledMessage:
    """A reservation message a pulling platform handed out: stored raw in the inbox, applied,
    then acknowledged. ``ack_key`` is what the acknowledgement names (queue and id)."""

    message_id: str
    event_type: str
    body: bytes
    ack_key: tuple[str, str]


@dataclass(frozen=True)
class AckRefusal:
    """An acknowledgement the platform did not take: answered with a warning (Expedia's BC
    ``Warning code="10081"`` "Update refused…": the reservation stays unconfirmed there), or,
    with ``next_pull``, not sent through (the platform failed a moment after it took another
    acknowledgement of the same call): the next pull hands the message out again."""

    reservation: str
    code: str
    text: str
    next_pull: bool = False


@runtime_checkable
class Puller(Protocol):
    """An adapter whose platform hands reservations out on request (pull + acknowledge)
    instead of pushing webhooks; polled every ``poll_seconds``, and not sooner than
    ``ack_pause_seconds`` after an acknowledgement."""

    poll_seconds: float
    ack_pause_seconds: float

    async def fetch(self, credentials: Mapping[str, Any]) -> list[PulledMessage]: ...

    async def acknowledge(
        self, credentials: Mapping[str, Any], messages: Sequence[PulledMessage]
    ) -> list[AckRefusal]:
        """Acknowledge what was applied; returns what the platform refused with a warning."""
        ...


class PulledInstantBookings:
    """The inbound side shared by the platforms whose reservations are instant and pulled
    (Booking.com, Expedia): the poller acknowledges each message after the apply (``Puller``),
    so nothing is acknowledged per message here; there are no host decisions and no webhooks.
    ``display_name`` names the platform in the refusals."""

    display_name: ClassVar[str]

    async def ack(self, credentials: Mapping[str, Any], message: InboundMessage) -> None:
        """Acknowledgements go through ``acknowledge`` (the poller), after the apply."""

    async def accept(self, credentials: Mapping[str, Any], code: str) -> None:
        raise PlatformError(f"{self.display_name} reservations are instant: nothing to accept")

    async def decline(self, credentials: Mapping[str, Any], code: str) -> None:
        raise PlatformError(f"{self.display_name} reservations are instant: nothing to decline")

    async def decide_alteration(
        self, credentials: Mapping[str, Any], alteration_id: str, accept: bool
    ) -> None:
        raise PlatformError(f"{self.display_name} has no alteration requests")

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> VerifiedWebhook:
        raise InvalidWebhook(f"{self.display_name} reservations are pulled, not pushed")


class Adapter(Protocol):
    platform: str
    # How far ahead the platform can be written and read (nights from today).
    window_days: int

    async def exchange_code(self, code: str) -> Grant: ...

    async def check_credentials(self, credentials: Mapping[str, Any]) -> Grant: ...

    async def refresh(self, credentials: Mapping[str, Any]) -> Grant: ...

    async def list_listings(self, credentials: Mapping[str, Any]) -> list[RemoteListing]: ...

    def batches(self, runs: Sequence[Run]) -> list[Batch]: ...

    async def push_ari(
        self, credentials: Mapping[str, Any], listing_id: str, currency: str, batch: Batch
    ) -> None: ...

    async def read_back(
        self, credentials: Mapping[str, Any], listing_id: str, currency: str, start: date, end: date
    ) -> dict[date, tuple[NightValues, str | None]]: ...

    async def pull_bookings(
        self, credentials: Mapping[str, Any], listing_id: str
    ) -> list[InboundReservation]: ...

    async def ack(self, credentials: Mapping[str, Any], message: InboundMessage) -> None: ...

    async def accept(self, credentials: Mapping[str, Any], code: str) -> None: ...

    async def decline(self, credentials: Mapping[str, Any], code: str) -> None: ...

    async def decide_alteration(
        self, credentials: Mapping[str, Any], alteration_id: str, accept: bool
    ) -> None: ...

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> VerifiedWebhook:
        """The message id and type of a signed webhook, or ``InvalidWebhook``. The message id
        must be one the signature covers (the intake remembers a signature on the message's
        inbox row: a replay must name the same message), and a timestamp outside the
        tolerance is refused (the intake's memory of signatures does not expire)."""
        ...

    def parse_message(self, body: bytes) -> InboundMessage: ...


def listing_ids(credentials: Mapping[str, Any]) -> list[RemoteListing]:
    """Platforms where we publish the listings (Vrbo, Google): the ids are given with the
    credentials, comma-separated, all in the account's ``currency`` (EUR unless given)."""
    currency = str(credentials.get("currency") or "EUR")
    ids = [x.strip() for x in str(credentials.get("listings") or "").split(",")]
    return [RemoteListing(id=x, currency=currency) for x in ids if x]
