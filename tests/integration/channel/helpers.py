"""Helpers for the Channel Manager tests: an agency with a priced property, a connected and
mapped Airbnb account, and comparisons of the simulator's calendar with Core's ARI."""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from pms.channel.connections import seal
from pms.settings import get_settings
from tests.factories import Agency, full_agency
from tests.services import eventually, plain

HOST_CODE = "code-host-1001"


@dataclass
class Connected:
    agency: Agency
    connection_id: str
    mapping_ids: dict[str, str]


async def priced_agency(client: httpx.AsyncClient, name: str = "Channel") -> Agency:
    a = await full_agency(client, name)
    r = await client.post(
        f"/api/v1/properties/{a.property_id}/rate-plans",
        json={"name": "Standard", "base_price_minor": 12000, "default_min_stay": 2},
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    a.rate_plan_id = r.json()["id"]
    return a


async def connect_account(
    client: httpx.AsyncClient, a: Agency, body: dict[str, Any]
) -> tuple[str, list[dict[str, Any]]]:
    """Connect a platform account as a property manager does (``body``: the platform and its
    credentials or authorization code): the connection's id and its remote listings."""
    r = await client.post("/api/v1/channel-connections", json=body, headers=a.auth())
    assert r.status_code == 201, r.text
    connection_id = str(r.json()["id"])
    r = await client.get(
        f"/api/v1/channel-connections/{connection_id}/remote-listings", headers=a.auth()
    )
    assert r.status_code == 200, r.text
    listings: list[dict[str, Any]] = r.json()
    return connection_id, listings


async def map_listing(
    client: httpx.AsyncClient, a: Agency, connection_id: str, listing: str
) -> str:
    """Map a remote listing to the agency's property; the mapping's id."""
    r = await client.post(
        f"/api/v1/channel-connections/{connection_id}/mappings",
        json={"remote_listing_id": listing, "property_id": a.property_id},
        headers=a.auth(),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def connect(
    client: httpx.AsyncClient, a: Agency, listings: tuple[str, ...] = ("50001",)
) -> Connected:
    body = {"platform": "airbnb", "authorization_code": HOST_CODE}
    connection_id, _ = await connect_account(client, a, body)
    mapping_ids = {
        listing: await map_listing(client, a, connection_id, listing) for listing in listings
    }
    return Connected(a, connection_id, mapping_ids)


async def airbnb_sandbox(sandbox_url: str, api_url: str) -> httpx.AsyncClient:
    """The simulator, reset, with Airbnb's webhooks sent to our API and retried quickly."""
    sandbox = httpx.AsyncClient(base_url=sandbox_url, timeout=10)
    (await sandbox.post("/control/reset")).raise_for_status()
    hook = {"url": f"{api_url}/api/v1/channels/airbnb/webhooks", "backoff_base_s": 0.2}
    (await sandbox.put("/control/airbnb/webhook", json=hook)).raise_for_status()
    return sandbox


async def book_on_airbnb(
    sandbox: httpx.AsyncClient, arrival: date, nights: int = 2, *, request: bool = False
) -> str:
    """A guest books listing 50001 on Airbnb (or asks to, with ``request``); its code."""
    stay: dict[str, Any] = {
        "listing_id": "50001",
        "arrival": arrival.isoformat(),
        "departure": (arrival + timedelta(days=nights)).isoformat(),
    }
    if request:
        stay |= {"request": True, "force": True}
    r = await sandbox.post("/control/airbnb/bookings", json=stay)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def booking_for(client: httpx.AsyncClient, a: Agency, code: str) -> dict[str, Any] | None:
    """Core's booking for a platform's confirmation code, once it has arrived."""
    r = await client.get("/api/v1/bookings", params={"limit": 200}, headers=a.auth())
    found = [b for b in r.json()["items"] if b["channel_booking_id"] == code]
    return found[0] if found else None


async def another_session_waits_for_a_lock(conn: asyncpg.Connection) -> bool:
    waiting = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )
    return bool(waiting)


def window(today: date | None = None, days: int = 365) -> tuple[date, date]:
    """Tonight onward in the test properties' time zone (Europe/Berlin)."""
    start = today or datetime.now(ZoneInfo("Europe/Berlin")).date()
    return start, start + timedelta(days=days)


async def core_ari(
    client: httpx.AsyncClient, a: Agency, start: date, end: date
) -> list[dict[str, Any]]:
    days: list[dict[str, Any]] = []
    day = start
    while day < end:
        chunk_end = min(end, day + timedelta(days=180))
        r = await client.get(
            f"/api/v1/properties/{a.property_id}/ari",
            params={"start": day.isoformat(), "end": chunk_end.isoformat()},
            headers=a.auth(),
        )
        assert r.status_code == 200, r.text
        days += r.json()["rate_plans"][0]["days"]
        day = chunk_end
    return days


async def sim_days(
    sandbox: httpx.AsyncClient, listing: str, start: date, end: date
) -> dict[str, Any]:
    r = await sandbox.get(
        f"/control/airbnb/listings/{listing}/days",
        params={"start": start.isoformat(), "end": (end - timedelta(days=1)).isoformat()},
    )
    r.raise_for_status()
    return {d["date"]: d for d in r.json()}


def mismatches(core: list[dict[str, Any]], sim: dict[str, Any]) -> list[str]:
    """Nights where the simulator does not show Core's ARI (price, availability, min/max
    nights, closed to arrival/departure)."""
    out = []
    for d in core:
        s = sim.get(d["date"])
        if s is None:
            out.append(f"{d['date']}: missing")
            continue
        want = (
            d["available"],
            Decimal(d["price"]["amount"]),
            d["min_stay"],
            d["max_stay"],
            d["closed_to_arrival"],
            d["closed_to_departure"],
        )
        have = (
            s["available"],
            Decimal(s["price"]) if s["price"] is not None else None,
            s["min_stay"],
            s["max_stay"],
            s["closed_to_arrival"],
            s["closed_to_departure"],
        )
        if want != have:
            out.append(f"{d['date']}: core {want} != airbnb {have}")
    return out


@dataclass
class ChannelIds:
    connection_id: str
    mapping_id: str
    dead_letter_id: str
    conflict_id: str
    sync_log_id: int = 0


async def channel_objects(database_url: str, a: Agency) -> ChannelIds:
    """A connection, a mapping, a dead letter, a conflict and a sync log entry of agency ``a``,
    written straight into its tables (no platform needed): the objects another agency must
    never reach."""
    ids = ChannelIds(*(str(uuid.uuid4()) for _ in range(4)))
    conn = await asyncpg.connect(plain(database_url))
    try:
        await conn.execute(
            "INSERT INTO channel_connections (id, agency_id, platform, name, account_id, "
            "credentials) VALUES ($1, $2, 'airbnb', 'A', '1001', $3)",
            uuid.UUID(ids.connection_id),
            uuid.UUID(a.id),
            seal(get_settings(), {"access_token": "x", "refresh_token": "y"}),
        )
        await conn.execute(
            "INSERT INTO channel_mappings (id, agency_id, connection_id, platform, "
            "remote_listing_id, property_id, rate_plan_id) "
            "VALUES ($1, $2, $3, 'airbnb', $4, $5, $6)",
            uuid.UUID(ids.mapping_id),
            uuid.UUID(a.id),
            uuid.UUID(ids.connection_id),
            f"tenant-{ids.mapping_id[:8]}",
            uuid.UUID(a.property_id),
            uuid.UUID(a.rate_plan_id),
        )
        await conn.execute(
            "INSERT INTO channel_dead_letters (id, agency_id, connection_id, mapping_id, start, "
            "\"end\", attempts, error) VALUES ($1, $2, $3, $4, '2030-01-01', '2030-01-05', 6, "
            "'HTTP 503')",
            uuid.UUID(ids.dead_letter_id),
            uuid.UUID(a.id),
            uuid.UUID(ids.connection_id),
            uuid.UUID(ids.mapping_id),
        )
        await conn.execute(
            "INSERT INTO channel_conflicts (id, agency_id, property_id, booking_id, start, "
            "\"end\") VALUES ($1, $2, $3, $4, '2030-01-01', '2030-01-05')",
            uuid.UUID(ids.conflict_id),
            uuid.UUID(a.id),
            uuid.UUID(a.property_id),
            uuid.UUID(a.booking_id),
        )
        ids.sync_log_id = await conn.fetchval(
            "INSERT INTO channel_sync_log (agency_id, connection_id, kind, outcome, started_at, "
            "finished_at) VALUES ($1, $2, 'reconcile', 'ok', now(), now()) RETURNING id",
            uuid.UUID(a.id),
            uuid.UUID(ids.connection_id),
        )
    finally:
        await conn.close()
    return ids


async def reconciled(
    client: httpx.AsyncClient, h: dict[str, str], connection_id: str, within: float = 60
) -> dict[str, Any]:
    """Ask for a reconciliation (202) and wait for its sync log entry to report the outcome."""
    r = await client.post(f"/api/v1/channel-connections/{connection_id}/reconcile", headers=h)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["outcome"] == "queued", body
    assert r.headers["location"] == body["location"]

    seen: list[str] = []

    async def finished() -> dict[str, Any] | None:
        entry: dict[str, Any] = (await client.get(body["location"], headers=h)).json()
        seen[:] = [entry["outcome"]]
        return entry if entry["outcome"] not in ("queued", "running") else None

    try:
        entry: dict[str, Any] = await eventually(finished, within, "the reconciliation to finish")
    except AssertionError as exc:
        raise AssertionError(f"{exc} (its entry still {seen})") from exc
    assert entry["kind"] == "reconcile", entry
    assert entry["id"] == body["sync_log_id"], entry
    return entry


async def reconciled_in_line(
    client: httpx.AsyncClient, h: dict[str, str], connection_id: str, within: float = 120
) -> None:
    """Reconcile until a run finds 0 mismatches (the first runs push what they find)."""

    last: list[Any] = []

    async def in_line() -> dict[str, Any] | None:
        entry = await reconciled(client, h, connection_id, within)
        ok = entry["details"]["mismatches"] == 0 and entry["outcome"] == "ok"
        if not ok:  # what the listings' own entries found, for the failure message
            r = await client.get(
                f"/api/v1/channel-connections/{connection_id}/sync-log",
                params={"limit": 20},
                headers=h,
            )
            last[:] = [
                (e["mapping_id"], e["details"].get("mismatched_nights"))
                for e in r.json()
                if e["kind"] == "reconcile" and e["mapping_id"] and e["details"].get("mismatches")
            ][:4]
        return entry if ok else None

    try:
        await eventually(in_line, within, "reconciliation with 0 mismatches")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last mismatched nights per listing: {last}") from exc


# A simulator reservation's status → the Core booking's. An accepted reservation may be a
# `conflict` in Core: when its webhook overtook the cancellation of the stay it collided with,
# Core kept it (never lost) as a conflict for a person to resolve, its nights held closed.
_STATUS = {"accepted": ("confirmed", "conflict"), "cancelled": ("cancelled",)}


async def every_booking_once(
    client: httpx.AsyncClient, sandbox: httpx.AsyncClient, h: dict[str, str], within: float = 60
) -> None:
    """Every reservation on the simulator is in Core exactly once, in its latest state."""
    remote = {
        x["confirmation_code"]: x
        for x in (await sandbox.get("/control/airbnb/reservations")).json()
    }
    last: list[Any] = []

    async def bookings_match() -> bool:
        r = await client.get(
            "/api/v1/bookings", params={"limit": 200, "source": "airbnb"}, headers=h
        )
        ours = [b for b in r.json()["items"] if b["channel_booking_id"] in remote]
        counts = Counter(b["channel_booking_id"] for b in ours)
        wrong = [
            (b["channel_booking_id"], b["status"], remote[b["channel_booking_id"]]["status"])
            for b in ours
            if b["status"] not in _STATUS[remote[b["channel_booking_id"]]["status"]]
            or b["check_in"] != remote[b["channel_booking_id"]]["start_date"]
        ]
        last[:] = [
            # A reservation cancelled before Core ever saw it needs no booking here.
            {k for k in set(remote) - set(counts) if remote[k]["status"] != "cancelled"},
            [k for k, n in counts.items() if n > 1],
            wrong,
            r.status_code,
            [(b["channel_booking_id"], b["status"]) for b in r.json().get("items", [])][:20],
        ]
        return not any(last[:3])

    try:
        await eventually(bookings_match, within, "every Airbnb booking once in Core")
    except AssertionError as exc:
        raise AssertionError(f"missing, doubled, wrong: {last}") from exc


async def traffic(
    client: httpx.AsyncClient,
    sandbox: httpx.AsyncClient,
    a: Agency,
    seconds: float,
    *,
    seed: int,
) -> tuple[int, list[str]]:
    """For ``seconds``: ARI changes in Core one after the other; every 4th change a guest books
    on Airbnb (listing 50001), every 9th one of them cancels. Returns (changes, booking codes)."""
    rng = random.Random(seed)
    start, _ = window()
    codes: list[str] = []
    changes = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        night = start + timedelta(days=rng.randrange(1, 300))
        r = await client.put(
            f"/api/v1/rate-plans/{a.rate_plan_id}/days",
            json={
                "ranges": [
                    {
                        "start": night.isoformat(),
                        "end": (night + timedelta(days=rng.randrange(1, 8))).isoformat(),
                        "price_minor": rng.randrange(8000, 30000),
                        "min_stay": rng.choice([1, 2, 3]),
                    }
                ]
            },
            headers=a.auth(),
        )
        assert r.status_code == 200, r.text
        changes += 1
        if changes % 4 == 0:
            arrival = start + timedelta(days=rng.randrange(1, 300))
            r = await sandbox.post(
                "/control/airbnb/bookings",
                json={
                    "listing_id": "50001",
                    "arrival": arrival.isoformat(),
                    "departure": (arrival + timedelta(days=3)).isoformat(),
                    "price_per_night": f"{rng.randrange(80, 200)}.00",
                },
            )
            if r.status_code == 201:
                codes.append(r.json()["id"])
        if changes % 9 == 0 and codes:
            await sandbox.post(f"/control/airbnb/bookings/{rng.choice(codes)}/cancel")
    return changes, codes


async def fully_synced(
    client: httpx.AsyncClient, h: dict[str, str], connection_id: str, within: float = 90
) -> None:
    """Nothing waits to go out on the connection (its lag is none)."""

    async def quiet() -> bool:
        r = await client.get(f"/api/v1/channel-connections/{connection_id}", headers=h)
        return r.json()["health"]["lag_seconds"] is None

    await eventually(quiet, within, "the connection to be in step")
