"""Webhook intake: verify the signature (constant time, timestamp tolerance, replay window),
store the raw message once (unique per platform and message id) and ask for it to be applied
through the outbox, all in one short transaction; the caller answers 2xx at once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from redis.exceptions import RedisError
from sqlalchemy.dialects.postgresql import insert

from pms import db
from pms.channel.adapters import adapter_for
from pms.channel.adapters.base import InvalidWebhook, UnknownPlatform
from pms.core import outbox
from pms.core.errors import NotFound
from pms.logs import get_logger
from pms.models.channel import ChannelInbox
from pms.models.outbox import OutboxEvent
from pms.redis_client import get_redis
from pms.settings import Settings

log = get_logger(__name__)
RECEIVED = "channel.message_received"
MAX_BODY = 512 * 1024


@dataclass(frozen=True)
class Receipt:
    message_id: str
    outcome: Literal["accepted", "duplicate"]
    inbox_id: int | None


def _replay_key(platform: str, headers: dict[str, str]) -> str:
    seen = "|".join(f"{k}={v}" for k, v in sorted(headers.items()) if "signature" in k)
    return f"pms:channel:webhook-seen:{platform}:{hashlib.sha256(seen.encode()).hexdigest()}"


async def receive(
    platform: str, headers: dict[str, str], body: bytes, settings: Settings
) -> Receipt:
    try:
        adapter = adapter_for(platform, settings)
    except UnknownPlatform:
        raise NotFound("No such platform.") from None
    if len(body) > MAX_BODY:
        raise InvalidWebhook("body too large")
    verified = adapter.verify_webhook(headers, body, datetime.now(UTC))
    # Replay window: a signature seen within the tolerance is refused (a new delivery of the
    # same event carries a new timestamp and signature, and is then a duplicate, not a replay).
    try:
        fresh = await get_redis().set(
            _replay_key(platform, headers),
            "1",
            nx=True,
            ex=2 * settings.channel_webhook_tolerance_seconds,
        )
    except RedisError:
        fresh = True  # the inbox's unique key still makes a replay a no-op
    if not fresh:
        raise InvalidWebhook("signature already used (replay)")
    async with db.transaction(None) as session:
        await db.enable_system_access(session)
        inserted = (
            await session.execute(
                insert(ChannelInbox)
                .values(
                    platform=platform,
                    message_id=verified.message_id,
                    event_type=verified.event_type,
                    body=body.decode("utf-8"),
                )
                .on_conflict_do_nothing(index_elements=["platform", "message_id"])
                .returning(ChannelInbox.id)
            )
        ).scalar_one_or_none()
        if inserted is None:
            return Receipt(verified.message_id, "duplicate", None)
        session.add(
            OutboxEvent(
                **outbox.event(
                    agency_id=None,  # type: ignore[arg-type]  # known once matched to a listing
                    event_type=RECEIVED,
                    aggregate_type="channel_inbox",
                    aggregate_id=inserted,
                    payload={"inbox_id": inserted, "platform": platform},
                )
            )
        )
    return Receipt(verified.message_id, "accepted", inserted)
