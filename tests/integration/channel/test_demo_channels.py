"""``make run`` connects the demo agency to the Airbnb simulator: two listings mapped (with a
15 % markup), a full sync requested, and connecting again (a restarted sandbox) is harmless."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from pms import db, demo
from pms.channel.engine import flush
from pms.models.channel import ChannelConnection, ChannelDirty, ChannelMapping
from pms.settings import Settings
from tests.integration.channel.helpers import sim_days, window
from tests.sandbox.conftest import Served


@pytest.fixture
async def seeded(settings: Settings) -> Settings:
    # In set-up: the first password hash and query compilations are one-time warm-ups.
    await demo._seed()
    return settings


async def test_the_demo_agency_is_connected_to_airbnb(
    seeded: Settings, sandbox_server: Served
) -> None:
    settings = seeded
    async with httpx.AsyncClient(base_url=sandbox_server.url, timeout=10) as sandbox:
        (await sandbox.post("/control/reset")).raise_for_status()
        lines = await demo.connect_airbnb(sandbox_server.url, "http://127.0.0.1:9/hook")
        assert "50001" in lines[0]
        again = await demo.connect_airbnb(sandbox_server.url, "http://127.0.0.1:9/hook")
        assert again == lines
        async with db.transaction(None) as s:
            await db.system_access(s)
            connections = (await s.execute(select(func.count(ChannelConnection.id)))).scalar()
            maps = (
                (await s.execute(select(ChannelMapping).where(ChannelMapping.active)))
                .scalars()
                .all()
            )
            dirty = (await s.execute(select(func.count()).select_from(ChannelDirty))).scalar()
        assert connections == 1
        assert sorted(m.remote_listing_id for m in maps) == ["50001", "50002"]
        assert dirty == 2
        loft = next(m for m in maps if m.remote_listing_id == "50001")
        report = await flush.flush(loft.id, settings)
        assert report.outcome == "pushed"
        start, _ = window()
        night = start + timedelta(days=30)
        async with db.transaction(loft.agency_id) as s:
            want = await flush.wanted(s, loft, night, night + timedelta(days=1))
        shown = await sim_days(sandbox, "50001", night, night + timedelta(days=1))
        assert Decimal(shown[night.isoformat()]["price"]) * 100 == want[night].price_minor


async def test_the_demo_agency_is_on_vrbo_and_google(
    seeded: Settings, sandbox_server: Served, api_url: str
) -> None:
    async with httpx.AsyncClient(base_url=sandbox_server.url, timeout=30) as sandbox:
        (await sandbox.post("/control/reset")).raise_for_status()
        lines = await demo.connect_vrbo_google(sandbox_server.url, api_url)
        assert "Vrbo read 9 feed documents" in lines[0], lines
        assert "Property Data pushed" in lines[1], lines
        # A restarted sandbox: connecting again is harmless (a new feed password, one mapping).
        (await sandbox.post("/control/reset")).raise_for_status()
        again = await demo.connect_vrbo_google(sandbox_server.url, api_url)
        assert "Vrbo read 9 feed documents" in again[0], again
        async with db.transaction(None) as s:
            await db.system_access(s)
            maps = (
                (
                    await s.execute(
                        select(ChannelMapping).where(
                            ChannelMapping.active,
                            ChannelMapping.platform.in_(["fewo_direkt", "google"]),
                        )
                    )
                )
                .scalars()
                .all()
            )
        assert sorted(m.remote_listing_id for m in maps) == ["fewo-42", "fewo-4711"]
        listings = (await sandbox.get("/control/vrbo/listings")).json()
        assert "fewo-4711" in listings["rates"]
        held = (await sandbox.get("/control/google/properties/fewo-42")).json()
        assert "fewo-42" in held["rooms"]


async def test_the_demo_agency_is_connected_to_booking_com_and_expedia(
    seeded: Settings, sandbox_server: Served
) -> None:
    settings = seeded
    async with httpx.AsyncClient(base_url=sandbox_server.url, timeout=10) as sandbox:
        (await sandbox.post("/control/reset")).raise_for_status()
        lines = await demo.connect_booking_and_expedia(sandbox_server.url)
        assert len(lines) == 2, lines
        assert lines[0].startswith("Booking.com")
        assert lines[1].startswith("Expedia")
        assert await demo.connect_booking_and_expedia(sandbox_server.url) == lines
        async with db.transaction(None) as s:
            await db.system_access(s)
            maps = (
                (await s.execute(select(ChannelMapping).where(ChannelMapping.active)))
                .scalars()
                .all()
            )
        assert sorted(m.platform for m in maps) == ["booking_com", "expedia"]
        for m in maps:
            report = await flush.flush(m.id, settings)
            assert report.outcome == "pushed", (m.platform, report)
        start, _ = window()
        night = start + timedelta(days=30)
        r = await sandbox.get(
            f"/control/booking/listings/{demo.DEMO_BOOKING_HOTEL}/days",
            params={"start": night.isoformat(), "end": night.isoformat()},
        )
        shown = [d for d in r.json() if d["rate_plan_id"] == "55500001"]
        assert shown[0]["available"] is True
        assert shown[0]["price"] is not None
