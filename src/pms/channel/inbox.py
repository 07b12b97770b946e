"""Webhook intake: verify the signature (constant time, timestamp tolerance, replay window),
store the raw message once (unique per platform and message id) and ask for it to be applied
through the outbox, all in one short transaction; the caller answers 2xx at once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pms import db
from pms.channel.adapters import adapter_for
from pms.channel.adapters.base import InvalidWebhook, UnknownPlatform
from pms.core.errors import NotFound
from pms.logs import get_logger, request_id_var
from pms.settings import Settings

log = get_logger(__name__)
RECEIVED = "channel.message_received"
MAX_BODY = 512 * 1024


# ONE statement outside any explicit transaction (no BEGIN/COMMIT round trips): the function
# (migration 0019) declares the statement a system job (webhooks arrive without a tenant; the
# message's agency is known once it is matched to a listing), stores the inbox row with the
# signature's digest and, only if it is new, the outbox event that asks for it to be applied.
# A message stored before: a signature not seen yet is a new delivery (a duplicate, its digest
# added to the row), one already on the row a replay.
_INTAKE = "SELECT pms_channel_intake($1, $2, $3, $4, $5, $6, $7)"
REPLAY = -1  # what it answers for a signature already used


@dataclass(frozen=True)
class Receipt:
    message_id: str
    outcome: Literal["accepted", "duplicate"]
    inbox_id: int | None


def _replay_digest(platform: str, headers: dict[str, str]) -> str:
    seen = "|".join(f"{k}={v}" for k, v in sorted(headers.items()) if "signature" in k)
    return f"{platform}:{hashlib.sha256(seen.encode()).hexdigest()}"


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
    # Replays: a signature already used is refused (a new delivery of the same event carries a
    # new timestamp and signature, and is then a duplicate, not a replay). One older than the
    # timestamp tolerance was refused as stale just above, so the memory needs no expiry.
    async with db.driver_connection() as connection:
        # One round trip, nothing compiled per call.
        inserted = await connection.fetchval(
            _INTAKE,
            platform,
            verified.message_id,
            verified.event_type,
            body.decode("utf-8"),
            request_id_var.get(),
            RECEIVED,
            _replay_digest(platform, headers),
        )
    if inserted == REPLAY:
        raise InvalidWebhook("signature already used (replay)")
    if inserted is None:
        return Receipt(verified.message_id, "duplicate", None)
    return Receipt(verified.message_id, "accepted", inserted)
