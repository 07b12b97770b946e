"""Vrbo's pulls of our feeds: an unchanged pull (index or document, If-None-Match or
If-Modified-Since) answers 304 and builds no document; each kind of change Core makes (a price,
a restriction, a booking, a fee, the property's name, a tax class, the cancellation policy, the
rate plan, the mapping, the day turning) changes the documents that say it, with a later
lastUpdatedDate, and rebuilds nothing that does not read it."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from pms.channel import vrbo_feeds
from pms.channel.adapters import vrbo
from pms.core import ari_store
from tests.integration.channel.helpers import window
from tests.integration.channel.test_vrbo import (
    PASSWORD,
    VrboSetup,
    connect_vrbo,
    point_simulator,
    stay,
)
from tests.integration.direct.engine import engine_agency
from tests.sandbox.conftest import Served
from tests.services import eventually

KINDS = tuple(vrbo.INDEXES)
LISTING = "801"
_UPDATED = re.compile(r"<lastUpdatedDate>([^<]+)</lastUpdatedDate>")


@dataclass
class Seen:
    """What a reader last saw of each index and document: ETag, Last-Modified, body and the
    listing's lastUpdatedDate."""

    index_etag: dict[str, str] = field(default_factory=dict)
    doc_etag: dict[str, str] = field(default_factory=dict)
    doc_modified: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] = field(default_factory=dict)
    updated: dict[str, datetime] = field(default_factory=dict)


def built() -> Counter[str]:
    return Counter(vrbo_feeds.builds)


async def pull(http: httpx.AsyncClient, v: VrboSetup, seen: Seen) -> dict[str, int]:
    """A conditional pull of every index and document, as Vrbo makes it: each kind's status
    (the document's), and ``seen`` brought up to date."""
    statuses: dict[str, int] = {}
    auth = (v.username, PASSWORD)
    for kind in KINDS:
        headers = {"If-None-Match": seen.index_etag[kind]} if kind in seen.index_etag else {}
        r = await http.get(f"{v.base}/feeds/{vrbo.INDEXES[kind]}", auth=auth, headers=headers)
        assert r.status_code in (200, 304), r.text
        if r.status_code == 200:
            seen.index_etag[kind] = r.headers["etag"]
            [stamp] = _UPDATED.findall(r.text)
            seen.updated[kind] = datetime.fromisoformat(stamp)
        headers = {"If-None-Match": seen.doc_etag[kind]} if kind in seen.doc_etag else {}
        r = await http.get(f"{v.base}/feeds/{kind}/{LISTING}", auth=auth, headers=headers)
        assert r.status_code in (200, 304), r.text
        statuses[kind] = r.status_code
        if r.status_code == 200:
            assert r.headers["etag"] != seen.doc_etag.get(kind), "a 200 says something new"
            assert r.text != seen.body.get(kind)
            seen.doc_etag[kind] = r.headers["etag"]
            seen.body[kind] = r.text
        else:
            assert r.headers["etag"] == seen.doc_etag[kind]
            assert not r.content
        if "last-modified" in r.headers:
            seen.doc_modified[kind] = r.headers["last-modified"]
    return statuses


async def test_unchanged_pulls_build_nothing_and_each_change_is_seen(
    api: httpx.AsyncClient,
    api_url: str,
    live_api: str,
    sandbox_server: Served,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    e = await engine_agency(api, "Vrbo Unchanged")
    # The simulator books through the API process; we pull from the API served in this process,
    # whose build counter (and clock) the test can read.
    booked_through = await connect_vrbo(api, api_url, e, LISTING)
    v = VrboSetup(
        e,
        booked_through.connection_id,
        booked_through.base.replace(api_url, live_api),
        booked_through.username,
    )
    a = e.agency
    h = a.auth()
    seen = Seen()
    http = httpx.AsyncClient(timeout=10)
    sandbox = httpx.AsyncClient(base_url=sandbox_server.url, timeout=30)
    try:
        before = built()
        first = await pull(http, v, seen)
        assert set(first.values()) == {200}, first
        # Built for the index's date, then for the body of the unconditional GET.
        assert built() - before == Counter(KINDS) + Counter(KINDS)
        # The simulator has read the listing (it books only what it has read).
        await point_simulator(sandbox, booked_through)
        (await sandbox.post("/control/vrbo/pull")).raise_for_status()

        async def unchanged() -> None:
            before = built()
            assert set((await pull(http, v, seen)).values()) == {304}
            assert built() == before, "an unchanged pull builds no document"

        await unchanged()

        async def dated() -> bool:
            # Last-Modified comes once the document's second is over (whole-second dates).
            await unchanged()
            return all(kind in seen.doc_modified for kind in KINDS)

        await eventually(dated, 10, "Last-Modified on every document")
        # If-Modified-Since alone (no ETag) is answered from the stored date too.
        before = built()
        for kind in KINDS:
            r = await http.get(
                f"{v.base}/feeds/{kind}/{LISTING}",
                auth=(v.username, PASSWORD),
                headers={"If-Modified-Since": seen.doc_modified[kind]},
            )
            assert r.status_code == 304, (kind, r.status_code)
        assert built() == before
        # A stale ETag or an unreadable date: the body again (built for it, the same one).
        for headers in ({"If-None-Match": '"stale"'}, {"If-Modified-Since": "yesterday-ish"}):
            before = built()
            r = await http.get(
                f"{v.base}/feeds/lodgingRateContent/{LISTING}",
                auth=(v.username, PASSWORD),
                headers=headers,
            )
            assert r.status_code == 200, r.text
            assert r.headers["etag"] == seen.doc_etag["lodgingRateContent"]
            assert r.text == seen.body["lodgingRateContent"]
            assert built() - before == Counter(["lodgingRateContent"])

        start, _ = window()
        night = start + timedelta(days=20)

        async def days(body: dict[str, Any]) -> None:
            r = await api.put(
                f"/api/v1/rate-plans/{a.rate_plan_id}/days",
                json={
                    "ranges": [
                        {
                            "start": night.isoformat(),
                            "end": (night + timedelta(days=2)).isoformat(),
                            **body,
                        }
                    ]
                },
                headers=a.auth(),
            )
            assert r.status_code == 200, r.text

        async def price() -> None:
            await days({"price_minor": 23456})

        async def restriction() -> None:
            await days({"min_stay": 4})

        async def booking() -> None:
            check_in, check_out = stay(30)
            r = await sandbox.post(
                "/control/vrbo/bookings",
                json={
                    "listing_id": LISTING,
                    "arrival": check_in.isoformat(),
                    "departure": check_out.isoformat(),
                    "adults": 2,
                },
            )
            assert r.status_code == 201, r.text
            assert r.json()["status"] == "confirmed", r.text

        async def fee() -> None:
            r = await api.patch(
                f"/api/v1/fees/{a.fee_id}", json={"amount_minor": 6100}, headers=a.auth()
            )
            assert r.status_code == 200, r.text

        async def name() -> None:
            r = await api.patch(
                f"/api/v1/properties/{a.property_id}",
                json={"name": f"Dünenhaus {uuid.uuid4().hex[:6]}"},
                headers=a.auth(),
            )
            assert r.status_code == 200, r.text

        async def tax() -> None:
            r = await api.patch(
                f"/api/v1/tax-classes/{a.tax_class_id}", json={"rate_percent": "7"}, headers=h
            )
            assert r.status_code == 200, r.text

        async def policy() -> None:
            r = await api.patch(
                f"/api/v1/cancellation-policies/{e.policy_id}",
                json={"rules": [{"days_before": 21, "refund_percent": "100"}]},
                headers=h,
            )
            assert r.status_code == 200, r.text

        async def plan() -> None:
            r = await api.patch(
                f"/api/v1/rate-plans/{a.rate_plan_id}", json={"min_lead_days": 2}, headers=h
            )
            assert r.status_code == 200, r.text

        async def mapping() -> None:
            r = await api.get(f"/api/v1/channel-connections/{v.connection_id}/mappings", headers=h)
            [m] = r.json()["items"] if isinstance(r.json(), dict) else r.json()
            r = await api.patch(
                f"/api/v1/channel-mappings/{m['id']}",
                json={"sync_restrictions": False},
                headers={**h, "Idempotency-Key": str(uuid.uuid4())},
            )
            assert r.status_code == 200, r.text

        async def midnight() -> None:
            # The property's day turns: the window's first day moves, nothing else changes.
            real = ari_store.local_today

            def tomorrow(timezone: str, now: datetime | None = None) -> date:
                return real(timezone, now) + timedelta(days=1)

            monkeypatch.setattr(ari_store, "local_today", tomorrow)

        # Each change, the document that says it, and documents that do not read it at all
        # (built again: none).
        changes: list[tuple[Callable[[], Awaitable[None]], str, tuple[str, ...]]] = [
            (price, "lodgingRateContent", ("listingContent", "lodgingConfigurationContent")),
            (restriction, "unitAvailabilityContent", ("listingContent",)),
            (booking, "unitAvailabilityContent", ("listingContent",)),
            (fee, "lodgingRateContent", ("listingContent", "unitAvailabilityContent")),
            (name, "listingContent", ()),
            (tax, "lodgingRateContent", ("listingContent", "unitAvailabilityContent")),
            (policy, "lodgingConfigurationContent", ("listingContent", "unitAvailabilityContent")),
            (plan, "unitAvailabilityContent", ()),
            (mapping, "unitAvailabilityContent", ()),
            (midnight, "unitAvailabilityContent", ()),
        ]
        for change, says, unread in changes:
            dates = dict(seen.updated)
            before = built()
            await change()
            statuses = await pull(http, v, seen)
            after = built()
            assert statuses[says] == 200, (change.__name__, statuses)
            assert after[says] > before[says], change.__name__
            assert seen.updated[says] > dates[says], change.__name__
            for kind in KINDS:
                # lastUpdatedDate moves exactly when the document changed.
                assert (seen.updated[kind] > dates[kind]) == (statuses[kind] == 200), (
                    change.__name__,
                    kind,
                )
            for kind in unread:
                assert after[kind] == before[kind], (change.__name__, kind)
            await unchanged()
    finally:
        await http.aclose()
        await sandbox.aclose()
