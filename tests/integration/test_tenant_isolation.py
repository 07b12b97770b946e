"""No agency ever sees another's data: every route with an id, called with agency B's token on
agency A's ids, answers 404 and changes nothing; RLS is the second wall underneath."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy import select, text

from pms.core.permissions import Role
from pms.models import Guest, Property
from tests.factories import Agency, add_rates, full_agency
from tests.integration.channel.helpers import ChannelIds, channel_objects
from tests.integration.ical.helpers import ical_objects
from tests.services import plain

_PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)

# Which of agency A's objects a path parameter names, by the collection it follows.
_IDS = {
    "properties": lambda a: a.property_id,
    "guests": lambda a: a.guest_id,
    "members": lambda a: a.users[Role.STAFF],
    "bookings": lambda a: a.booking_id,
    "blocks": lambda a: a.block_id,
    "photos": lambda a: a.photo_id,
    "rate-plans": lambda a: a.rate_plan_id,
    "seasons": lambda a: a.season_id,
    "tax-classes": lambda a: a.tax_class_id,
    "fees": lambda a: a.fee_id,
    "visitor-taxes": lambda a: a.visitor_tax_id,
    "cancellation-policies": lambda a: a.policy_id,
    "ical-exports": lambda a: a.ical_export_id,
    "ical-feeds": lambda a: a.ical_feed_id,
    "alerts": lambda a: a.alert_id,
    "channel-connections": lambda a: _CHANNEL[a.id].connection_id,
    "channel-mappings": lambda a: _CHANNEL[a.id].mapping_id,
    "dead-letters": lambda a: _CHANNEL[a.id].dead_letter_id,
    "channel-conflicts": lambda a: _CHANNEL[a.id].conflict_id,
    "sync-log": lambda a: _CHANNEL[a.id].sync_log_id,
}
# Channel objects per agency id (written by channel_objects: no platform needed).
_CHANNEL: dict[str, ChannelIds] = {}
# Capability URLs: the secret in the path is the authorisation, whoever else is logged in
# (tests/integration/ical/test_export.py covers unknown, rotated and revoked tokens).
_CAPABILITY_URLS = {"/ical/{token}.ics"}
# Platform webhooks carry no token: their signature is the authorisation
# (tests/integration/channel/test_webhooks.py covers forged, stale and replayed ones).
_SIGNED_WEBHOOKS = {"/api/v1/channels/{platform}/webhooks"}
# What Vrbo calls on us: the connection's Basic credentials are the authorisation, and another
# connection's credentials get a 401 (tests/integration/channel/test_vrbo.py).
_PLATFORM_CALLS = "/api/v1/channels/fewo_direkt/"
# Bodies valid enough to get past validation, so a 404 is about the id, not the body.
_BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", "/api/v1/members/{user_id}"): {"role": "manager"},
    ("PATCH", "/api/v1/bookings/{booking_id}"): {"version": 1, "notes": "x"},
    ("POST", "/api/v1/rate-plans/{rate_plan_id}/seasons"): {
        "start": "2028-01-01",
        "end": "2028-02-01",
        "price_minor": 100,
    },
    ("POST", "/api/v1/properties/{property_id}/rate-plans"): {
        "name": "Hijack",
        "base_price_minor": 1,
    },
    ("PUT", "/api/v1/rate-plans/{rate_plan_id}/days"): {
        "ranges": [{"start": "2027-01-01", "end": "2027-01-02", "closed": True}]
    },
    ("PUT", "/api/v1/properties/{property_id}/pricing"): {"fee_ids": []},
    ("PUT", "/api/v1/properties/{property_id}/photos/order"): {"photo_ids": []},
    ("POST", "/api/v1/properties/{property_id}/ical-feeds"): {
        "url": "https://calendar.example/feed.ics",
        "name": "x",
        "source": "other",
    },
    ("POST", "/api/v1/channel-connections/{connection_id}/mappings"): {
        "remote_listing_id": "50001",
        "property_id": str(uuid.uuid4()),
    },
    ("PATCH", "/api/v1/channel-connections/{connection_id}"): {"status": "paused"},
    ("POST", "/api/v1/channel-conflicts/{conflict_id}/resolve"): {"action": "cancel"},
}


def _fill(path: str, a: Agency) -> str:
    def repl(m: re.Match[str]) -> str:
        if m.group(0) == "{action}":
            return "confirm"
        collection = path[: m.start()].rstrip("/").rsplit("/", 1)[-1]
        if collection not in _IDS:
            raise AssertionError(f"add an id for '{collection}' ({path}) to _IDS in this test")
        return str(_IDS[collection](a))

    return re.sub(r"\{[^}]+\}", repl, path)


def _required_query(operation: dict[str, Any]) -> str:
    """Plausible values for required query parameters, so the answer is about the id."""
    samples = {"start": "2030-01-01", "end": "2030-01-05"}
    params = [
        f"{p['name']}={samples.get(p['name'], '1')}"
        for p in operation.get("parameters", [])
        if p.get("in") == "query" and p.get("required")
    ]
    return "?" + "&".join(params) if params else ""


async def _fingerprint(client: httpx.AsyncClient, a: Agency) -> list[Any]:
    h = a.auth()
    out = []
    for path in (
        "/api/v1/properties",
        "/api/v1/guests",
        "/api/v1/members",
        "/api/v1/bookings",
        "/api/v1/blocks",
        "/api/v1/audit-log",
        f"/api/v1/properties/{a.property_id}/rate-plans",
        f"/api/v1/rate-plans/{a.rate_plan_id}/seasons",
        f"/api/v1/properties/{a.property_id}/pricing",
        f"/api/v1/properties/{a.property_id}/ari?start=2027-06-28&end=2027-07-05",
        "/api/v1/fees",
        "/api/v1/tax-classes",
        "/api/v1/visitor-taxes",
        "/api/v1/cancellation-policies",
        "/api/v1/ical-feeds",
        "/api/v1/alerts",
        "/api/v1/channel-connections",
        "/api/v1/channel-conflicts",
        f"/api/v1/channel-connections/{_CHANNEL[a.id].connection_id}/mappings",
        f"/api/v1/channel-connections/{_CHANNEL[a.id].connection_id}/dead-letters",
    ):
        sep = "&" if "?" in path else "?"
        out.append((await client.get(f"{path}{sep}limit=200", headers=h)).json())
    return out


async def test_every_route_with_an_id_is_404_for_another_agency(
    client: httpx.AsyncClient, app: FastAPI, database_url: str
) -> None:
    a = await add_rates(client, await full_agency(client, "A"))
    b = await full_agency(client, "B")
    await ical_objects(client, a)
    _CHANNEL[a.id] = await channel_objects(database_url, a)
    before = await _fingerprint(client, a)
    checked = []
    # The published route list: routes added later are covered without touching this test.
    spec = await asyncio.to_thread(app.openapi)  # CPU-bound: kept off the event loop
    for template, operations in spec["paths"].items():
        if (
            "{" not in template
            or template.startswith("/api/v1/public/")
            or template in _CAPABILITY_URLS
            or template in _SIGNED_WEBHOOKS
            or template.startswith(_PLATFORM_CALLS)
        ):
            # Public booking-engine routes and secret feed URLs take no token: the agency is
            # named by a slug, a signed link or the URL itself (covered by their own tests).
            continue
        for method, operation in operations.items():
            method = method.upper()
            path = _fill(template, a) + _required_query(operation)
            body = _BODIES.get((method, template), {} if method in ("POST", "PATCH") else None)
            content = operation.get("requestBody", {}).get("content", {})
            if "multipart/form-data" in content:
                r = await client.request(
                    method, path, files={"file": ("p.png", _PNG, "image/png")}, headers=b.auth()
                )
            else:
                r = await client.request(method, path, json=body, headers=b.auth())
            assert r.status_code == 404, f"{method} {template}: {r.status_code} {r.text[:200]}"
            checked.append(f"{method} {template}")
    assert len(checked) >= 9
    assert await _fingerprint(client, a) == before


async def test_every_tenant_table_has_rls_enabled_and_forced(database_url: str) -> None:
    conn = await asyncpg.connect(plain(database_url))
    try:
        rows = await conn.fetch(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'agency_id'
            WHERE c.relkind = 'r'
            """
        )
    finally:
        await conn.close()
    assert len(rows) >= 5
    missing = [r["relname"] for r in rows if not (r["relrowsecurity"] and r["relforcerowsecurity"])]
    assert missing == []


async def test_a_query_without_the_agency_filter_still_sees_only_the_current_agency(
    client: httpx.AsyncClient,
) -> None:
    from pms.core.tenancy import scope_transaction
    from pms.db import get_sessionmaker

    a = await full_agency(client, "A")
    b = await full_agency(client, "B")
    async with get_sessionmaker()() as session, session.begin():
        await scope_transaction(session, user_id=None, agency_id=uuid.UUID(a.id))
        props = (await session.execute(select(Property))).scalars().all()
        guests = (await session.execute(select(Guest))).scalars().all()
        assert {str(p.agency_id) for p in props} == {a.id}
        assert {str(g.agency_id) for g in guests} == {a.id}
        # Writing into another agency is refused by the policy's WITH CHECK as well.
        result = await session.execute(
            text("UPDATE properties SET name = 'hijacked' WHERE agency_id = :b"), {"b": b.id}
        )
        assert result.rowcount == 0  # type: ignore[attr-defined]
    async with get_sessionmaker()() as session, session.begin():
        # No agency in scope: nothing at all.
        assert (await session.execute(select(Property))).scalars().all() == []
