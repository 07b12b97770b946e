"""iCal figures: import a 2-year feed with 500 events, export a property with 1,000 stays, each
next to a bare request of the same run.

    .venv/bin/python -m bench.ical

Starts embedded PostgreSQL and Redis (unless DATABASE_URL/REDIS_URL are set), migrates a fresh
database, serves the app with ``uvicorn pms.api.app:create_app --factory`` and a bare FastAPI app
the same way, and serves the feed over HTTP on loopback.
"""

from __future__ import annotations

import os
import socket
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.harness import python, serve, services
from pms.embedded.process import free_port

FEED_EVENTS = 500
FEED_DAYS = 730
STAYS = 1_000
REPEAT = 20


def feed_body(first: date) -> bytes:
    """500 events over two years, shaped like an Airbnb 1.0 export (some back to back)."""
    lines = [
        "BEGIN:VCALENDAR",
        "PRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN",
        "CALSCALE:GREGORIAN",
        "VERSION:2.0",
    ]
    for i in range(FEED_EVENTS):
        start = first + timedelta(days=i * FEED_DAYS // FEED_EVENTS)
        end = start + timedelta(days=1)
        lines += [
            "BEGIN:VEVENT",
            "DTSTAMP:20261126T080000Z",
            f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
            f"DTEND;VALUE=DATE:{end:%Y%m%d}",
            f"UID:{uuid.uuid4().hex[:12]}-{uuid.uuid4().hex}@airbnb.com",
            "SUMMARY:Reserved" if i % 3 else "SUMMARY:Airbnb (Not available)",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def _uvicorn(target: str, port: int) -> list[str]:
    """``uvicorn <target> --factory``, as ``pms api`` serves the app."""
    return [
        python(), "-m", "uvicorn", target, "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip


FEED_STATE = {"honour_etag": False}


@contextmanager
def feed_server(body: bytes) -> Iterator[str]:
    async def feed(request: Request) -> Response:
        etag = '"bench-1"'
        if FEED_STATE["honour_etag"] and request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, media_type="text/calendar", headers={"ETag": etag})

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(Starlette(routes=[Route("/feed.ics", feed)]), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the feed server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/feed.ics"
    finally:
        server.should_exit = True
        thread.join(10)


def timed(fn: Callable[[], httpx.Response], expect: int = 200) -> float:
    start = time.perf_counter()
    r = fn()
    elapsed = time.perf_counter() - start
    assert r.status_code == expect, (r.status_code, r.text[:300])
    return elapsed * 1000


def median_ms(fn: Callable[[], httpx.Response], expect: int = 200) -> float:
    timed(fn, expect)  # warm-up
    return statistics.median(timed(fn, expect) for _ in range(REPEAT))


def main() -> None:
    first = datetime.now(UTC).date() + timedelta(days=7)
    with services() as svc:
        env = {
            **os.environ,
            "DATABASE_URL": svc.database_url,
            "REDIS_URL": svc.redis_url,
            "ICAL_ALLOW_PRIVATE": "true",
            "LOG_LEVEL": "WARNING",
        }
        api_port, bare_port = free_port(), free_port()
        with (
            serve(
                "api", _uvicorn("pms.api.app:create_app", api_port), env, api_port, "/docs"
            ) as api,
            serve(
                "bare",
                _uvicorn("bench.bare_ical_app:create_app", bare_port),
                env,
                bare_port,
                "/docs",
            ) as bare,
            feed_server(feed_body(first)) as feed_url,
            httpx.Client(base_url=api.base, timeout=120) as c,
            httpx.Client(base_url=bare.base, timeout=30) as b,
        ):
            run(c, b, feed_url, first)


def run(c: httpx.Client, b: httpx.Client, feed_url: str, first: date) -> None:
    r = c.post(
        "/api/v1/auth/signup",
        json={
            "email": f"bench-{uuid.uuid4().hex[:6]}@example.com",
            "password": "bench-password-123",
            "agency_name": "Bench",
        },
    )
    r.raise_for_status()
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    props = []
    for name in ("Importer", "Exporter"):
        r = c.post(
            "/api/v1/properties",
            json={"name": name, "timezone": "Europe/Berlin", "currency": "EUR", "max_guests": 4},
            headers=h,
        )
        r.raise_for_status()
        props.append(r.json()["id"])
    importer, exporter = props

    bare_ms = median_ms(lambda: b.get("/bare.ics"))

    # --- import: first sync of a 2-year feed with 500 events, then the steady state ----------
    r = c.post(
        f"/api/v1/properties/{importer}/ical-feeds",
        json={"url": feed_url, "name": "Airbnb", "source": "airbnb"},
        headers=h,
    )
    r.raise_for_status()
    feed_id = r.json()["id"]
    start = time.perf_counter()
    r = c.post(f"/api/v1/ical-feeds/{feed_id}/sync", headers=h)
    first_import_ms = (time.perf_counter() - start) * 1000
    r.raise_for_status()
    added = len(r.json()["added"])
    assert r.json()["held"] is None, r.json()
    # Same content again, fetched and parsed in full (a server that ignores our validators).
    unchanged_ms = median_ms(lambda: c.post(f"/api/v1/ical-feeds/{feed_id}/sync", headers=h))
    FEED_STATE["honour_etag"] = True
    steady_ms = median_ms(lambda: c.post(f"/api/v1/ical-feeds/{feed_id}/sync", headers=h))

    # --- export: a property with 1,000 stays ---------------------------------------------------
    r = c.post("/api/v1/guests", json={"last_name": "Bench"}, headers=h)
    r.raise_for_status()
    guest = r.json()["id"]
    for i in range(STAYS):
        check_in = first + timedelta(days=2 * i)
        r = c.post(
            "/api/v1/bookings",
            json={
                "property_id": exporter,
                "check_in": check_in.isoformat(),
                "check_out": (check_in + timedelta(days=2)).isoformat(),
                "guest_id": guest,
            },
            headers=h,
        )
        r.raise_for_status()
    r = c.post(f"/api/v1/properties/{exporter}/ical-exports", json={}, headers=h)
    r.raise_for_status()
    path = httpx.URL(r.json()["url"]).path
    export = c.get(path)
    export.raise_for_status()
    export_ms = median_ms(lambda: c.get(path))
    etag = export.headers["etag"]
    not_modified_ms = median_ms(lambda: c.get(path, headers={"If-None-Match": etag}), 304)
    bare_after_ms = median_ms(lambda: b.get("/bare.ics"))

    events = export.text.count("BEGIN:VEVENT")
    day = f"{datetime.now(UTC):%Y-%m-%d}"
    print(f"iCal bench ({day}, {os.cpu_count()} CPUs, median of {REPEAT} unless noted)")
    print(
        f"  bare FastAPI request (same run)           {bare_ms:8.1f} ms  / {bare_after_ms:.1f} ms"
    )
    print(
        f"  import: first sync, {FEED_EVENTS} events / {FEED_DAYS} days "
        f"-> {added} blocks  {first_import_ms:8.1f} ms  (single run)"
    )
    print(f"  import: re-sync, same body parsed again       {unchanged_ms:8.1f} ms")
    print(f"  import: re-sync, feed answers 304            {steady_ms:8.1f} ms")
    print(
        f"  export: {STAYS} stays, {events} VEVENTs, {len(export.content) // 1024} KiB"
        f"   {export_ms:8.1f} ms"
    )
    print(f"  export: conditional GET -> 304              {not_modified_ms:8.1f} ms")


if __name__ == "__main__":
    main()
