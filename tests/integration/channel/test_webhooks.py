"""Webhook security: forged, missing, stale and replayed signatures are refused with nothing
stored; a valid one is stored once (a duplicate delivery is a no-op)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
import pytest
from sqlalchemy import func, select

from pms import db
from pms.models.channel import ChannelInbox

SECRET = "sandbox-airbnb-webhook-secret"
URL = "/api/v1/channels/airbnb/webhooks"


def _event(event_id: str = "evt_00000001") -> bytes:
    return json.dumps(
        {
            "event_id": event_id,
            "event_type": "reservation.created",
            "created_at": "2030-01-01T00:00:00+00:00",
            "data": {},
        }
    ).encode()


def _headers(
    body: bytes, *, secret: str = SECRET, at: int | None = None, event_id: str = "evt_00000001"
) -> dict[str, str]:
    stamp = at if at is not None else int(time.time())
    sig = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Airbnb-Timestamp": str(stamp),
        "X-Airbnb-Signature": f"v1={sig}",
        "X-Airbnb-Event-Id": event_id,
    }


async def _stored() -> int:
    async with db.transaction(None) as s:
        await db.system_access(s)
        return int((await s.execute(select(func.count()).select_from(ChannelInbox))).scalar_one())


@pytest.mark.parametrize(
    "case",
    ["forged", "missing", "stale", "future", "wrong_event_id", "not_a_number"],
)
async def test_bad_signatures_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, case: str
) -> None:
    body = _event()
    headers = _headers(body)
    if case == "forged":
        headers = _headers(body, secret="not-the-secret-at-all")
    elif case == "missing":
        del headers["X-Airbnb-Signature"]
    elif case == "stale":
        headers = _headers(body, at=int(time.time()) - 3600)
    elif case == "future":
        headers = _headers(body, at=int(time.time()) + 3600)
    elif case == "wrong_event_id":
        headers["X-Airbnb-Event-Id"] = "evt_99999999"
    elif case == "not_a_number":
        headers["X-Airbnb-Timestamp"] = "yesterday"
    r = await client.post(URL, content=body, headers=headers)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert SECRET not in r.text
    assert await _stored() == 0


async def test_a_valid_webhook_is_stored_once_and_a_replay_is_refused(
    client: httpx.AsyncClient,
) -> None:
    body = _event()
    headers = _headers(body)
    r = await client.post(URL, content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "accepted"
    # The very same signed request again: a replay, refused.
    r = await client.post(URL, content=body, headers=headers)
    assert r.status_code == 400
    # A new delivery of the same event (new timestamp, new signature): a duplicate no-op.
    r = await client.post(URL, content=body, headers=_headers(body, at=int(time.time()) - 30))
    assert r.status_code == 200
    assert r.json()["outcome"] == "duplicate"
    assert await _stored() == 1
    # Not applied yet (no worker here): /metrics counts it as an open inbound message.
    metrics = (await client.get("/metrics")).text
    assert "pms_channel_inbox_open 1.0" in metrics
    assert "pms_channel_dirty_mappings 0.0" in metrics


async def test_every_signature_a_message_was_accepted_with_is_a_replay_afterwards(
    client: httpx.AsyncClient,
) -> None:
    """The intake remembers each delivery's signature on the message's inbox row: after a
    second delivery, the first and the second signed requests again are both replays, and a
    third delivery is still a duplicate. Another message is not affected."""
    body = _event("evt_00000002")
    first = _headers(body, event_id="evt_00000002", at=int(time.time()) - 20)
    second = _headers(body, event_id="evt_00000002", at=int(time.time()) - 10)
    r = await client.post(URL, content=body, headers=first)
    assert r.json()["outcome"] == "accepted"
    r = await client.post(URL, content=body, headers=second)
    assert r.json()["outcome"] == "duplicate"
    for replayed in (first, second):
        r = await client.post(URL, content=body, headers=replayed)
        assert r.status_code == 400, r.text
        assert "replay" in r.json()["detail"]
    r = await client.post(URL, content=body, headers=_headers(body, event_id="evt_00000002"))
    assert r.json()["outcome"] == "duplicate"
    other = _event("evt_00000003")
    r = await client.post(URL, content=other, headers=_headers(other, event_id="evt_00000003"))
    assert r.json()["outcome"] == "accepted"
    assert await _stored() == 2
    async with db.transaction(None) as s:
        await db.system_access(s)
        signatures = (
            await s.execute(
                select(ChannelInbox.signatures).where(ChannelInbox.message_id == "evt_00000002")
            )
        ).scalar_one()
    assert len(signatures) == 3


async def test_an_unknown_platform_is_404(client: httpx.AsyncClient) -> None:
    body = _event()
    r = await client.post("/api/v1/channels/myspace/webhooks", content=body, headers=_headers(body))
    assert r.status_code == 404
