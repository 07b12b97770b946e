"""Sync one import feed: fetch (conditional GET), parse off the loop, decide, apply in ONE
transaction through ``core.blocks`` (so the inventory guard, outbox events and audit apply).

A Hold (fetch failed, unparseable, suddenly empty) keeps every block and raises an alert; a feed
without success for three intervals raises a stale alert. A feed range that collides with a stay
we have is recorded as a conflict with an alert, and its free nights are still blocked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pms import db
from pms.channel.ical import feeds
from pms.channel.ical.fetch import FetchError, FetchPolicy, NotModified, fetch_feed
from pms.channel.ical.parse import FeedEvent, ParsedFeed, ParseError, parse_feed
from pms.channel.ical.ranges import NightRange, merge_ranges
from pms.channel.ical.reconcile import FeedBlock, FeedOutcome, Hold, HoldReason, decide
from pms.core import alerts, blocks, secretbox
from pms.core.booking_status import BLOCK_MARKER, INVENTORY_ACTIVE, BookingStatus
from pms.core.inventory import InventoryConflict
from pms.core.permissions import Role
from pms.core.tenancy import Actor, scope_transaction
from pms.logs import get_logger
from pms.models.block import Block, BlockKind
from pms.models.ical import IcalConflict, IcalFeed
from pms.models.inventory import OccupiedRange
from pms.models.property import Property
from pms.schemas.booking import MAX_STAY_NIGHTS, BlockCreate
from pms.settings import Settings

log = get_logger(__name__)

STALE_INTERVALS = 3
# Nights further ahead than this are not blocked (platforms close their far future anyway).
HORIZON = timedelta(days=3 * 366)

ALERT_KINDS: dict[HoldReason, str] = {
    HoldReason.FETCH_FAILED: "ical_fetch_failed",
    HoldReason.UNPARSEABLE: "ical_unparseable",
    HoldReason.SUDDENLY_EMPTY: "ical_suddenly_empty",
}
STALE = "ical_stale"
CONFLICT = "ical_conflict"
# Alerts that a successful sync makes obsolete.
HEALED_BY_SUCCESS = (*ALERT_KINDS.values(), STALE)


@dataclass
class SyncReport:
    """What one attempt did; ``held`` names the Hold reason when nothing was changed."""

    feed_id: uuid.UUID
    outcome: str
    held: str | None = None
    added: list[NightRange] = field(default_factory=list)
    removed: list[NightRange] = field(default_factory=list)
    conflicts: int = 0
    alerts: list[str] = field(default_factory=list)


def system_actor(agency_id: uuid.UUID) -> Actor:
    """The scheduler acts for the agency with no user behind it (audit rows show no user)."""
    return Actor(user_id=None, email="system:ical-sync", agency_id=agency_id, role=Role.ADMIN)


def fetch_policy(settings: Settings) -> FetchPolicy:
    networks = tuple(
        ipaddress.ip_network(cidr.strip(), strict=False)
        for cidr in settings.ical_allowed_networks.split(",")
        if cidr.strip()
    )
    return FetchPolicy(
        allow_private=settings.ical_allow_private,
        allowed_networks=networks,
        max_bytes=settings.ical_max_feed_bytes,
        total_timeout=settings.ical_fetch_timeout_seconds,
    )


@dataclass(frozen=True)
class _FeedSnapshot:
    agency_id: uuid.UUID
    property_id: uuid.UUID
    url: str | None
    etag: str | None
    last_modified: str | None
    timezone: str


async def _snapshot(feed_id: uuid.UUID, settings: Settings) -> _FeedSnapshot | None:
    async with db.get_sessionmaker()() as session, session.begin():
        await db.system_access(session)
        feed = await session.get(IcalFeed, feed_id)
        if feed is None:
            return None
        await db.system_access(session, on=False)
        await scope_transaction(session, user_id=None, agency_id=feed.agency_id)
        tz = (
            await session.execute(
                select(Property.timezone).where(
                    Property.id == feed.property_id, Property.deleted_at.is_(None)
                )
            )
        ).scalar_one_or_none()
        if tz is None:
            return None  # the property was deleted: nothing left to block
        try:
            url: str | None = secretbox.decrypt(settings, feed.url_encrypted)
        except secretbox.UndecryptableSecret:
            url = None
        return _FeedSnapshot(
            feed.agency_id, feed.property_id, url, feed.etag, feed.last_modified, tz
        )


Validators = tuple[str | None, str | None]


async def _outcome(snap: _FeedSnapshot, settings: Settings) -> tuple[FeedOutcome, Validators]:
    """The attempt's outcome and the validators to store if it gets applied."""
    if snap.url is None:
        error = FetchError("network", "the stored URL cannot be decrypted (SECRET_KEY changed?)")
        return error, (snap.etag, snap.last_modified)
    result = await fetch_feed(
        snap.url,
        etag=snap.etag,
        last_modified=snap.last_modified,
        policy=fetch_policy(settings),
    )
    if isinstance(result, NotModified):
        return result, (result.etag, result.last_modified)
    if isinstance(result, FetchError):
        return result, (snap.etag, snap.last_modified)
    try:
        # Parsing is CPU-bound (a big feed takes tens of milliseconds): off the event loop.
        parsed = await asyncio.to_thread(parse_feed, result.body, snap.timezone)
    except ParseError as exc:
        return exc, (snap.etag, snap.last_modified)
    return parsed, (result.etag, result.last_modified)


async def sync_feed(
    feed_id: uuid.UUID,
    settings: Settings,
    *,
    actor: Actor | None = None,
    now: datetime | None = None,
    accept_empty: bool = False,
) -> SyncReport | None:
    """One sync attempt; ``None`` if the feed or its property no longer exists. Never raises for
    feed trouble.

    The fetch happens outside any transaction; the apply locks the feed row, so two workers
    syncing the same feed serialise and the second finds nothing left to do."""
    snap = await _snapshot(feed_id, settings)
    if snap is None:
        return None
    outcome, validators = await _outcome(snap, settings)
    async with db.get_sessionmaker()() as session, session.begin():
        await scope_transaction(
            session, user_id=actor.user_id if actor else None, agency_id=snap.agency_id
        )
        feed = (
            await session.execute(select(IcalFeed).where(IcalFeed.id == feed_id).with_for_update())
        ).scalar_one_or_none()
        if feed is None:
            return None
        return await _apply(
            session,
            feed,
            outcome,
            validators,
            actor or system_actor(feed.agency_id),
            settings,
            now=now or datetime.now(UTC),
            tz=ZoneInfo(snap.timezone),
            accept_empty=accept_empty,
        )


async def _apply(
    session: AsyncSession,
    feed: IcalFeed,
    outcome: FeedOutcome,
    validators: Validators,
    actor: Actor,
    settings: Settings,
    *,
    now: datetime,
    tz: ZoneInfo,
    accept_empty: bool,
) -> SyncReport:
    today = now.astimezone(tz).date()
    own = (await session.execute(feeds.feed_blocks_query(feed.agency_id, feed.id))).scalars().all()
    by_parent: dict[NightRange, list[Block]] = defaultdict(list)
    for block in own:
        parent = feeds.parent_range(block.source_ref or "")
        if parent is not None:
            by_parent[parent].append(block)
    previous = [FeedBlock(id=str(parent), nights=parent) for parent in by_parent]
    decision = decide(previous, outcome, today=today, accept_empty=accept_empty)
    report = SyncReport(feed_id=feed.id, outcome=type(outcome).__name__)
    feed.last_attempt_at = now
    if isinstance(decision, Hold):
        report.held = decision.reason.value
        await _held(session, feed, decision, report, settings, now=now)
        return report
    plan = decision.plan
    for gone in plan.remove:
        for block in by_parent.pop(gone.nights, []):
            await blocks.delete(session, actor, block.id)
        report.removed.append(gone.nights)
    wanted = [*plan.add, *(b.nights for b in plan.unchanged)]
    events = outcome.events if isinstance(outcome, ParsedFeed) else None
    await _block_free_nights(session, feed, actor, wanted, by_parent, events, report, today)
    if isinstance(outcome, ParsedFeed):
        feed.event_count = len(outcome.events)
    feed.etag, feed.last_modified = validators
    feed.last_success_at = now
    feed.last_error = None
    feed.consecutive_failures = 0
    feed.next_poll_at = next_poll(feed, now, settings)
    await alerts.resolve_for_feed(session, feed.agency_id, feed.id, HEALED_BY_SUCCESS)
    log.info(
        "ical.sync",
        feed_id=str(feed.id),
        outcome=report.outcome,
        added=len(report.added),
        removed=len(report.removed),
        conflicts=report.conflicts,
    )
    return report


async def _held(
    session: AsyncSession,
    feed: IcalFeed,
    decision: Hold,
    report: SyncReport,
    settings: Settings,
    *,
    now: datetime,
) -> None:
    """Keep the last good state; say why, once per problem."""
    feed.last_error = decision.detail
    feed.last_error_at = now
    feed.consecutive_failures += 1
    feed.next_poll_at = next_poll(feed, now, settings)
    kind = ALERT_KINDS[decision.reason]
    raised = await alerts.raise_(
        session,
        agency_id=feed.agency_id,
        kind=kind,
        feed_id=feed.id,
        property_id=feed.property_id,
        message=f"Feed '{feed.name}': {_HOLD_TEXT[decision.reason]} ({decision.detail}). "
        "Its nights stay blocked as they were.",
    )
    if raised is not None:
        report.alerts.append(kind)
    if await raise_if_stale(session, feed, now):
        report.alerts.append(STALE)
    log.warning(
        "ical.sync_held", feed_id=str(feed.id), reason=decision.reason.value, detail=decision.detail
    )


_HOLD_TEXT = {
    HoldReason.FETCH_FAILED: "could not be fetched",
    HoldReason.UNPARSEABLE: "is not a readable calendar",
    HoldReason.SUDDENLY_EMPTY: "suddenly lists no current stays",
}


async def raise_if_stale(session: AsyncSession, feed: IcalFeed, now: datetime) -> bool:
    """A feed without success for three intervals is stale (one open alert at a time)."""
    since = feed.last_success_at or feed.created_at
    if now - since < timedelta(seconds=STALE_INTERVALS * feed.poll_interval_seconds):
        return False
    age = int((now - since).total_seconds() // 60)
    raised = await alerts.raise_(
        session,
        agency_id=feed.agency_id,
        kind=STALE,
        feed_id=feed.id,
        property_id=feed.property_id,
        message=f"Feed '{feed.name}' has not been synced successfully for {age} minutes.",
    )
    return raised is not None


def next_poll(feed: IcalFeed, now: datetime, settings: Settings) -> datetime:
    """The next due time, with jitter so feeds created together do not poll together."""
    jitter_max = settings.ical_poll_jitter_seconds
    jitter = random.uniform(0, min(jitter_max, feed.poll_interval_seconds / 4))
    return now + timedelta(seconds=feed.poll_interval_seconds + jitter)


def _subtract(nights: NightRange, taken: list[NightRange]) -> list[NightRange]:
    """The parts of ``nights`` not covered by ``taken`` (sorted, merged)."""
    free: list[NightRange] = []
    cursor = nights.start
    for t in taken:
        if t.end <= cursor or t.start >= nights.end:
            continue
        if t.start > cursor:
            free.append(NightRange(cursor, t.start))
        cursor = max(cursor, t.end)
        if cursor >= nights.end:
            break
    if cursor < nights.end:
        free.append(NightRange(cursor, nights.end))
    return free


def _chunks(nights: NightRange) -> list[NightRange]:
    """Blocks are at most MAX_STAY_NIGHTS long; a longer piece becomes back-to-back blocks."""
    out = []
    start = nights.start
    while start < nights.end:
        end = min(nights.end, start + timedelta(days=MAX_STAY_NIGHTS))
        out.append(NightRange(start, end))
        start = end
    return out


async def _block_free_nights(
    session: AsyncSession,
    feed: IcalFeed,
    actor: Actor,
    wanted: list[NightRange],
    by_parent: dict[NightRange, list[Block]],
    events: tuple[FeedEvent, ...] | None,
    report: SyncReport,
    today: date,
) -> None:
    """Block every wanted night that nothing else holds; record collisions with stays."""
    horizon = today + HORIZON
    others: list[tuple[NightRange, str, uuid.UUID | None]] = []
    if wanted:
        lo = min(r.start for r in wanted)
        hi = max(r.end for r in wanted)
        own_ids = [b.id for blocks_ in by_parent.values() for b in blocks_]
        rows = await session.execute(
            select(
                OccupiedRange.start,
                OccupiedRange.end,
                OccupiedRange.status,
                OccupiedRange.booking_id,
            ).where(
                OccupiedRange.property_id == feed.property_id,
                OccupiedRange.status.in_(INVENTORY_ACTIVE),
                OccupiedRange.start < hi,
                OccupiedRange.end > lo,
                or_(OccupiedRange.block_id.is_(None), OccupiedRange.block_id.not_in(own_ids))
                if own_ids
                else OccupiedRange.id.is_not(None),
                or_(
                    OccupiedRange.status != BookingStatus.HOLD.value,
                    OccupiedRange.hold_expires_at > datetime.now(UTC),
                ),
            )
        )
        others = [(NightRange(s, e), status, booking_id) for s, e, status, booking_id in rows]
    taken = list(merge_ranges(r for r, _, _ in others))
    for parent in sorted(wanted):
        mine = [NightRange(b.start, b.end) for b in by_parent.get(parent, [])]
        clipped = (
            NightRange(parent.start, min(parent.end, horizon)) if parent.start < horizon else None
        )
        if clipped is None:
            continue
        for piece in _subtract(clipped, sorted(merge_ranges([*taken, *mine]))):
            for chunk in _chunks(piece):
                await _create_block(session, feed, actor, parent, chunk, report)
    if events is not None:
        current = await _record_conflicts(session, feed, events, others, report, today)
        await _close_conflicts(session, feed, lambda c: (c.start, c.end, c.booking_id) in current)
    else:
        # The feed did not change, but our side may have: a cancelled stay ends its conflict.
        live = {booking_id for _, status, booking_id in others if status != BLOCK_MARKER}
        await _close_conflicts(session, feed, lambda c: c.booking_id in live)


async def _create_block(
    session: AsyncSession,
    feed: IcalFeed,
    actor: Actor,
    parent: NightRange,
    chunk: NightRange,
    report: SyncReport,
) -> None:
    data = BlockCreate(
        property_id=feed.property_id,
        start=chunk.start,
        end=chunk.end,
        kind=BlockKind.ICAL,
        note=f"iCal: {feed.name}",
    )
    try:
        await blocks.create(session, actor, data, source_ref=feeds.source_ref(feed.id, parent))
    except InventoryConflict as exc:
        # Taken between our look and our write: recorded, never dropped; the next sync retries.
        clash = exc.extra.get("clash") or {}
        booking_id = clash.get("booking_id")
        await _conflict(
            session,
            feed,
            chunk,
            clash_type=str(exc.extra.get("conflict_type", "booking")),
            clash=NightRange(
                date.fromisoformat(clash.get("start", chunk.start.isoformat())),
                date.fromisoformat(clash.get("end", chunk.end.isoformat())),
            ),
            booking_id=uuid.UUID(booking_id) if booking_id else None,
            report=report,
        )
        return
    report.added.append(chunk)


async def _record_conflicts(
    session: AsyncSession,
    feed: IcalFeed,
    events: tuple[FeedEvent, ...],
    others: list[tuple[NightRange, str, uuid.UUID | None]],
    report: SyncReport,
    today: date,
) -> set[tuple[date, date, uuid.UUID | None]]:
    """A feed event that overlaps one of our stays but is not wholly inside nights we already
    hold is a double booking. (An event wholly inside our nights is our own export coming back
    through the platform's calendar, which iCal cannot tell apart from a same-dates clash.)"""
    ours = merge_ranges(r for r, _, _ in others)
    stays = [(r, status, b) for r, status, b in others if status != BLOCK_MARKER]
    current: set[tuple[date, date, uuid.UUID | None]] = set()
    for event in events:
        nights = event.nights
        if nights.end <= today or _inside(nights, ours):
            continue
        for stay, status, booking_id in stays:
            if stay.start < nights.end and stay.end > nights.start:
                current.add((nights.start, nights.end, booking_id))
                await _conflict(
                    session,
                    feed,
                    nights,
                    clash_type="hold" if status == BookingStatus.HOLD.value else "booking",
                    clash=stay,
                    booking_id=booking_id,
                    report=report,
                )
    return current


async def _close_conflicts(
    session: AsyncSession, feed: IcalFeed, keep: Callable[[IcalConflict], bool]
) -> None:
    """Resolve the feed's open conflicts that no longer hold; with none left, so is the alert."""
    await session.flush()
    rows = (
        await session.execute(
            select(IcalConflict).where(
                IcalConflict.feed_id == feed.id, IcalConflict.resolved_at.is_(None)
            )
        )
    ).scalars()
    still_open = 0
    for row in rows:
        if keep(row):
            still_open += 1
        else:
            row.resolved_at = datetime.now(UTC)
    if not still_open:
        await alerts.resolve_for_feed(session, feed.agency_id, feed.id, [CONFLICT])


def _inside(nights: NightRange, ours: tuple[NightRange, ...]) -> bool:
    return any(r.start <= nights.start and nights.end <= r.end for r in ours)


async def _conflict(
    session: AsyncSession,
    feed: IcalFeed,
    nights: NightRange,
    *,
    clash_type: str,
    clash: NightRange,
    booking_id: uuid.UUID | None,
    report: SyncReport,
) -> None:
    existing = (
        await session.execute(
            select(IcalConflict.id).where(
                IcalConflict.feed_id == feed.id,
                IcalConflict.start == nights.start,
                IcalConflict.end == nights.end,
                IcalConflict.booking_id == booking_id
                if booking_id
                else IcalConflict.booking_id.is_(None),
                IcalConflict.resolved_at.is_(None),
            )
        )
    ).first()
    if existing is not None:
        return
    session.add(
        IcalConflict(
            agency_id=feed.agency_id,
            feed_id=feed.id,
            property_id=feed.property_id,
            start=nights.start,
            end=nights.end,
            clash_type=clash_type,
            clash_start=clash.start,
            clash_end=clash.end,
            booking_id=booking_id,
        )
    )
    report.conflicts += 1
    await alerts.raise_(
        session,
        agency_id=feed.agency_id,
        kind=CONFLICT,
        feed_id=feed.id,
        property_id=feed.property_id,
        message=f"Feed '{feed.name}' has the nights {nights.start} to {nights.end}, which "
        f"overlap a {clash_type} from {clash.start} to {clash.end}: possible double booking.",
        once_per_feed=False,
    )
    report.alerts.append(CONFLICT)


# --- scheduler ------------------------------------------------------------------------------


async def claim_due_feeds(
    settings: Settings, *, now: datetime, limit: int = 200
) -> list[uuid.UUID]:
    """Feeds due for a poll, across agencies; their next poll moves on so a second scheduler
    tick does not enqueue them again (the sync sets the real next time)."""
    async with db.get_sessionmaker()() as session, session.begin():
        await db.system_access(session)
        rows = (
            await session.execute(
                select(IcalFeed.id, IcalFeed.poll_interval_seconds)
                .where(IcalFeed.next_poll_at <= now)
                .order_by(IcalFeed.next_poll_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for feed_id, interval in rows:
            await session.execute(
                update(IcalFeed)
                .where(IcalFeed.id == feed_id)
                .values(next_poll_at=now + timedelta(seconds=interval))
            )
        return [feed_id for feed_id, _ in rows]


async def check_stale(settings: Settings, *, now: datetime) -> int:
    """Raise stale alerts for feeds whose syncs stopped happening at all (e.g. no worker)."""
    async with db.get_sessionmaker()() as session, session.begin():
        await db.system_access(session)
        since = func.coalesce(IcalFeed.last_success_at, IcalFeed.created_at)
        overdue = since + func.make_interval(
            0, 0, 0, 0, 0, 0, STALE_INTERVALS * IcalFeed.poll_interval_seconds
        )
        rows = await session.execute(select(IcalFeed.id, IcalFeed.agency_id).where(overdue <= now))
        candidates = rows.all()
    raised = 0
    for feed_id, agency_id in candidates:
        async with db.get_sessionmaker()() as session, session.begin():
            await scope_transaction(session, user_id=None, agency_id=agency_id)
            feed = await session.get(IcalFeed, feed_id)
            if feed is not None and await raise_if_stale(session, feed, now):
                raised += 1
    return raised
