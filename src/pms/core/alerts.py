"""Alerts for people: raised once per open problem, emitted to the outbox, resolved when fixed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import listing, outbox
from pms.core.errors import NotFound
from pms.core.permissions import Permission
from pms.core.tenancy import Actor
from pms.models.alert import Alert


def _payload(alert: Alert) -> dict[str, str | None]:
    return {
        "alert_id": str(alert.id),
        "kind": alert.kind,
        "feed_id": str(alert.feed_id) if alert.feed_id else None,
        "property_id": str(alert.property_id) if alert.property_id else None,
        "message": alert.message,
    }


async def raise_(
    session: AsyncSession,
    *,
    agency_id: uuid.UUID,
    kind: str,
    message: str,
    feed_id: uuid.UUID | None = None,
    property_id: uuid.UUID | None = None,
    once_per_feed: bool = True,
) -> Alert | None:
    """Record an alert and emit ``alert.raised``. With ``once_per_feed``, ``None`` if one of this
    kind is already open for the feed (a feed that stays broken is one alert, not one per poll).
    ``message`` must hold no secret."""
    if once_per_feed and feed_id is not None:
        already = (
            await session.execute(
                select(Alert.id).where(
                    Alert.agency_id == agency_id,
                    Alert.feed_id == feed_id,
                    Alert.kind == kind,
                    Alert.resolved_at.is_(None),
                )
            )
        ).first()
        if already is not None:
            return None
    alert = Alert(
        id=uuid.uuid4(),
        agency_id=agency_id,
        kind=kind,
        feed_id=feed_id,
        property_id=property_id,
        message=message,
        created_at=datetime.now(UTC),
    )
    session.add(alert)
    outbox.emit(
        session,
        agency_id=agency_id,
        event_type="alert.raised",
        aggregate_type="alert",
        aggregate_id=alert.id,
        payload=_payload(alert),
    )
    return alert


async def resolve_for_feed(
    session: AsyncSession, agency_id: uuid.UUID, feed_id: uuid.UUID, kinds: Iterable[str]
) -> int:
    """Close the feed's open alerts of these kinds (the problem went away by itself)."""
    rows = (
        await session.execute(
            update(Alert)
            .where(
                Alert.agency_id == agency_id,
                Alert.feed_id == feed_id,
                Alert.kind.in_(list(kinds)),
                Alert.resolved_at.is_(None),
            )
            .values(resolved_at=datetime.now(UTC))
            .returning(Alert.id, Alert.kind)
        )
    ).all()
    for alert_id, kind in rows:
        outbox.emit(
            session,
            agency_id=agency_id,
            event_type="alert.resolved",
            aggregate_type="alert",
            aggregate_id=alert_id,
            payload={"alert_id": str(alert_id), "kind": kind, "feed_id": str(feed_id)},
        )
    return len(rows)


async def list_(
    session: AsyncSession,
    actor: Actor,
    *,
    open_only: bool,
    kind: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Alert], int]:
    actor.require(Permission.CHANNELS_READ)
    stmt = select(Alert).where(Alert.agency_id == actor.require_agency())
    if open_only:
        stmt = stmt.where(Alert.resolved_at.is_(None))
    if kind:
        stmt = stmt.where(Alert.kind == kind)
    return await listing.page(
        session, stmt.order_by(Alert.created_at.desc(), Alert.id), limit, offset
    )


async def resolve(session: AsyncSession, actor: Actor, alert_id: uuid.UUID) -> Alert:
    """A person marks an alert as dealt with (idempotent)."""
    actor.require(Permission.CHANNELS_MANAGE)
    alert = (
        await session.execute(
            select(Alert)
            .where(Alert.id == alert_id, Alert.agency_id == actor.require_agency())
            .with_for_update()
        )
    ).scalar_one_or_none()
    if alert is None:
        raise NotFound("Alert not found.")
    if alert.resolved_at is None:
        alert.resolved_at = datetime.now(UTC)
        outbox.emit(
            session,
            agency_id=alert.agency_id,
            event_type="alert.resolved",
            aggregate_type="alert",
            aggregate_id=alert.id,
            payload={"alert_id": str(alert.id), "kind": alert.kind},
        )
    return alert
