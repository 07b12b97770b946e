"""Channel alerts (on /api/v1/alerts and the live stream): one open alert per kind and subject."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import alerts
from pms.models.alert import Alert

REVOKED = "channel_revoked"
FAILING = "channel_failing"
UNMAPPED = "channel_unmapped_listing"
CONFLICT = "channel_conflict"
ACK_REFUSED = "channel_ack_refused"


async def raise_once(
    session: AsyncSession,
    *,
    agency_id: uuid.UUID,
    kind: str,
    subject: str,
    message: str,
    property_id: uuid.UUID | None = None,
) -> bool:
    """Raise unless an alert of this kind about ``subject`` (named at the start of its message)
    is still open. ``message`` holds no secret."""
    text = f"[{subject}] {message}"
    open_one = (
        await session.execute(
            select(Alert.id).where(
                Alert.agency_id == agency_id,
                Alert.kind == kind,
                Alert.resolved_at.is_(None),
                Alert.message.startswith(f"[{subject}]", autoescape=True),
            )
        )
    ).first()
    if open_one is not None:
        return False
    await alerts.raise_(
        session,
        agency_id=agency_id,
        kind=kind,
        message=text,
        property_id=property_id,
        once_per_feed=False,
    )
    return True
