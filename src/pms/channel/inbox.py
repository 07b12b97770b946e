"""Webhook intake: verify the signature (constant time, timestamp tolerance, replay window),
store the raw message once (unique per platform and message id) and ask for it to be applied
through the outbox, all in one short transaction; the caller answers 2xx at once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from redis.exceptions import RedisError
from sqlalchemy import text

from pms import db
from pms.channel.adapters import adapter_for
from pms.channel.adapters.base import InvalidWebhook, UnknownPlatform
from pms.core.errors import NotFound
from pms.logs import get_logger, request_id_var
from pms.redis_client import get_redis
from pms.settings import Settings

log = get_logger(__name__)
RECEIVED = "channel.message_received"
MAX_BODY = 512 * 1024


# A system transaction (webhooks arrive without a tenant; the message's agency is known once it
# is matched to a listing), then ONE statement: the inbox row and, only if it is new, the
# outbox event that asks for it to be applied.
_SYSTEM = text("SELECT set_config('app.system', 'on', true), set_config('app.agency_id', '', true)")
_INTAKE = text(
    """
    WITH new AS (
        INSERT INTO channel_inbox (platform, message_id, event_type, body)
        VALUES (:platform, :message_id, :event_type, :body)
        ON CONFLICT (platform, message_id) DO NOTHING
        RETURNING id
    ), event AS (
        INSERT INTO outbox_events (event_type, aggregate_type, aggregate_id, payload, request_id)
        SELECT :received, 'channel_inbox', new.id::text,
               jsonb_build_object('inbox_id', new.id, 'platform', CAST(:platform AS text)),
               :request_id
        FROM new
    )
    SELECT id FROM new
    """
).bindparams(received=RECEIVED)


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
    async with db.get_sessionmaker()() as session, session.begin():
        await session.execute(_SYSTEM)
        inserted = (
            await session.execute(
                _INTAKE,
                {
                    "platform": platform,
                    "message_id": verified.message_id,
                    "event_type": verified.event_type,
                    "body": body.decode("utf-8"),
                    "request_id": request_id_var.get(),
                },
            )
        ).scalar_one_or_none()
    if inserted is None:
        return Receipt(verified.message_id, "duplicate", None)
    return Receipt(verified.message_id, "accepted", inserted)
