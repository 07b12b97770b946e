"""Import feeds: create, list, delete. A feed URL is a secret: encrypted at rest, shown redacted.

Blocks a feed creates carry ``source_ref = "ical:<feed id>:<range start>:<range end>"``: the
feed range they belong to. A range that is partly taken by other stays becomes several blocks
(the free pieces), and all of them go when the feed drops that range.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import httpx
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pms.channel.ical.fetch import blocked_address, fetch_policy, redact_url
from pms.channel.ical.ranges import NightRange
from pms.core import audit, blocks, listing, properties, secretbox
from pms.core.errors import Conflict, NotFound, Unprocessable
from pms.core.permissions import Permission
from pms.core.tenancy import Actor
from pms.core.tokens import token_hash
from pms.models.block import Block
from pms.models.ical import IcalConflict, IcalFeed
from pms.settings import Settings

_PREFIX = "ical:"


def source_ref(feed_id: uuid.UUID, nights: NightRange) -> str:
    return f"{_PREFIX}{feed_id}:{nights.start.isoformat()}:{nights.end.isoformat()}"


def parent_range(ref: str) -> NightRange | None:
    """The feed range a block belongs to, from its ``source_ref``."""
    parts = ref.split(":")
    if len(parts) != 4 or parts[0] + ":" != _PREFIX:
        return None
    try:
        return NightRange(date.fromisoformat(parts[2]), date.fromisoformat(parts[3]))
    except ValueError:
        return None


def feed_blocks_query(agency_id: uuid.UUID, feed_id: uuid.UUID) -> Select[Block]:
    """The blocks a feed created, whichever of its ranges they belong to."""
    return select(Block).where(
        Block.agency_id == agency_id, Block.source_ref.startswith(f"{_PREFIX}{feed_id}:")
    )


def check_url(url: str) -> str:
    """A usable http(s) URL; the error never repeats the URL (it is a secret)."""
    url = url.strip()
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, UnicodeError):
        raise _bad_url("not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise _bad_url("only http:// and https:// URLs with a host are accepted")
    if parsed.userinfo:
        raise _bad_url("user names and passwords in the URL are not accepted")
    return url


def _bad_url(message: str) -> Unprocessable:
    return Unprocessable(
        f"The feed URL is not usable: {message}.",
        errors=[{"field": "url", "in": "body", "message": message}],
    )


async def create(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    property_id: uuid.UUID,
    *,
    url: str,
    name: str,
    source: str,
    poll_interval_seconds: int,
) -> IcalFeed:
    actor.require(Permission.CHANNELS_MANAGE)
    prop = await properties.get(session, actor, property_id)
    url = check_url(url)
    blocked = await blocked_address(url, fetch_policy(settings))
    if blocked is not None:
        # Refused now, not only at every fetch: a feed that could never be polled is an error
        # to its creator, and an internal address is no business of an import.
        raise _bad_url(
            "it points to a private, loopback or otherwise non-public address "
            "(ICAL_ALLOW_PRIVATE or ICAL_ALLOWED_NETWORKS allow such hosts)"
        )
    feed = IcalFeed(
        id=uuid.uuid4(),
        agency_id=prop.agency_id,
        property_id=prop.id,
        name=name,
        source=source,
        url_encrypted=secretbox.encrypt(settings, url),
        url_hash=token_hash(url),
        url_redacted=redact_url(url),
        poll_interval_seconds=poll_interval_seconds,
        next_poll_at=datetime.now(UTC),
        created_by=actor.user_id,
    )
    try:
        async with session.begin_nested():
            session.add(feed)
            await session.flush()
    except IntegrityError:
        raise Conflict(
            "This property already imports that feed.", conflict_type="duplicate_feed"
        ) from None
    await session.refresh(feed)
    await audit.record(
        session,
        actor,
        agency_id=feed.agency_id,
        entity_type="ical_feed",
        entity_id=feed.id,
        action="created",
        after={k: v for k, v in audit.snapshot(feed).items() if k != "url_encrypted"},
    )
    return feed


async def list_(
    session: AsyncSession,
    actor: Actor,
    *,
    property_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> tuple[list[IcalFeed], int]:
    actor.require(Permission.CHANNELS_READ)
    stmt = select(IcalFeed).where(IcalFeed.agency_id == actor.require_agency())
    if property_id is not None:
        stmt = stmt.where(IcalFeed.property_id == property_id)
    return await listing.page(
        session, stmt.order_by(IcalFeed.created_at, IcalFeed.id), limit, offset
    )


async def get(
    session: AsyncSession, actor: Actor, feed_id: uuid.UUID, *, for_update: bool = False
) -> IcalFeed:
    actor.require(Permission.CHANNELS_READ)
    stmt = select(IcalFeed).where(
        IcalFeed.id == feed_id, IcalFeed.agency_id == actor.require_agency()
    )
    feed = (
        await session.execute(stmt.with_for_update() if for_update else stmt)
    ).scalar_one_or_none()
    if feed is None:
        raise NotFound("Feed not found.")
    return feed


async def open_conflicts(session: AsyncSession, feed_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = await session.execute(
        select(IcalConflict.feed_id, func.count())
        .where(IcalConflict.feed_id.in_(feed_ids), IcalConflict.resolved_at.is_(None))
        .group_by(IcalConflict.feed_id)
    )
    return {feed_id: count for feed_id, count in rows}


async def conflicts(
    session: AsyncSession, actor: Actor, feed_id: uuid.UUID, *, open_only: bool
) -> list[IcalConflict]:
    feed = await get(session, actor, feed_id)
    stmt = select(IcalConflict).where(
        IcalConflict.agency_id == feed.agency_id, IcalConflict.feed_id == feed.id
    )
    if open_only:
        stmt = stmt.where(IcalConflict.resolved_at.is_(None))
    rows = await session.execute(stmt.order_by(IcalConflict.start, IcalConflict.id))
    return list(rows.scalars().all())


async def delete(session: AsyncSession, actor: Actor, feed_id: uuid.UUID) -> None:
    """Stop importing: the feed goes, and so do the blocks it made (their nights are freed)."""
    actor.require(Permission.CHANNELS_MANAGE)
    feed = await get(session, actor, feed_id, for_update=True)
    own = (await session.execute(feed_blocks_query(feed.agency_id, feed.id))).scalars().all()
    for block in own:
        await blocks.delete(session, actor, block.id)
    before = {k: v for k, v in audit.snapshot(feed).items() if k != "url_encrypted"}
    await session.delete(feed)
    await audit.record(
        session,
        actor,
        agency_id=feed.agency_id,
        entity_type="ical_feed",
        entity_id=feed.id,
        action="deleted",
        before=before,
    )


def health(feed: IcalFeed, open_conflict_count: int, now: datetime) -> dict[str, object]:
    """The feed's health as shown to people: status, lag and the last error (never the URL)."""
    since = feed.last_success_at or feed.created_at
    stale = (now - since).total_seconds() >= 3 * feed.poll_interval_seconds
    if feed.last_attempt_at is None:
        status = "stale" if stale else "pending"
    elif stale:
        status = "stale"
    elif feed.consecutive_failures:
        status = "failing"
    else:
        status = "ok"
    lag = int((now - feed.last_success_at).total_seconds()) if feed.last_success_at else None
    return {
        "status": status,
        "last_attempt_at": feed.last_attempt_at,
        "last_success_at": feed.last_success_at,
        "last_error": feed.last_error,
        "last_error_at": feed.last_error_at,
        "event_count": feed.event_count,
        "consecutive_failures": feed.consecutive_failures,
        "lag_seconds": lag,
        "next_poll_at": feed.next_poll_at,
        "open_conflicts": open_conflict_count,
    }
