"""The web app's calendar in Chromium: 200 properties x 62 days with bookings of every source.

Prints the time from navigation to all bars drawn (cold and warm), the frame times while
scrolling all rows and a month sideways, and the JavaScript sent for the calendar page (gzipped).
Starts its own services, the API (``pms api``) and the built web app (``next start``).

    .venv/bin/python -m bench.web_calendar        (or: make web-bench)
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from bench.harness import python, say, serve, services
from pms.embedded import web
from pms.embedded.process import free_port

PROPERTIES = 200
DAYS = 62
PASSWORD = "bench-password-123"
SOURCES = ["direct", "airbnb", "booking_com", "expedia", "fewo_direkt", "google", "manual"]


def seed(api: str) -> tuple[str, int]:
    """An agency with PROPERTIES properties and a few stays each over the window."""
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    rng = random.Random(7)
    with httpx.Client(base_url=api, timeout=30) as http:
        r = http.post(
            "/api/v1/auth/signup",
            json={"email": email, "password": PASSWORD, "agency_name": "Bench Agency"},
        )
        r.raise_for_status()
        headers = {"authorization": f"Bearer {r.json()['access_token']}"}
        first = datetime.now(UTC).date() - timedelta(days=3)
        bookings = 0
        for i in range(PROPERTIES):
            p = http.post(
                "/api/v1/properties",
                headers={**headers, "idempotency-key": str(uuid.uuid4())},
                json={
                    "name": f"Property {i + 1:03d}",
                    "timezone": "Europe/Berlin",
                    "currency": "EUR",
                    "max_guests": 4,
                },
            )
            p.raise_for_status()
            day = rng.randint(0, 4)
            while day < DAYS - 2:
                nights = rng.randint(2, 7)
                check_in = first + timedelta(days=day)
                b = http.post(
                    "/api/v1/bookings",
                    headers={**headers, "idempotency-key": str(uuid.uuid4())},
                    json={
                        "property_id": p.json()["id"],
                        "check_in": check_in.isoformat(),
                        "check_out": (check_in + timedelta(days=nights)).isoformat(),
                        "source": rng.choice(SOURCES),
                        "channel_booking_id": uuid.uuid4().hex[:12],
                        "guest": {
                            "last_name": f"Guest {i}-{day}",
                            "email": f"g{i}x{day}@example.com",
                        },
                    },
                )
                b.raise_for_status()
                bookings += 1
                day += nights + rng.randint(0, 4)
    return email, bookings


def main() -> None:
    say(f"web calendar bench: {PROPERTIES} properties x {DAYS} days, in Chromium")
    web.prepare()
    with services() as svc:
        for note in svc.notes:
            say(f"  {note}")
        env = {
            **os.environ,
            "DATABASE_URL": svc.database_url,
            "REDIS_URL": svc.redis_url,
            "LOG_LEVEL": "WARNING",
        }
        api_port = free_port()
        api_argv = [python(), "-m", "pms", "api", "--port", str(api_port)]
        with serve("api", api_argv, env, api_port, "/health/live") as api:
            email, bookings = seed(api.base)
            say(f"  seeded {PROPERTIES} properties and {bookings} bookings")
            web_port = free_port()
            web_env = {**env, "API_URL": api.base, "NEXT_TELEMETRY_DISABLED": "1"}
            argv = web.start_argv("127.0.0.1", web_port)
            with serve("web", argv, web_env, web_port, "/login") as app:
                run = subprocess.run(
                    ["node", "bench/calendar.mjs"],
                    cwd=web.WEB_DIR,
                    env={**os.environ, "WEB_URL": app.base, "EMAIL": email, "PASSWORD": PASSWORD},
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
                if run.returncode != 0:
                    raise SystemExit(f"bench/calendar.mjs failed:\n{run.stderr[-3000:]}")
                out = run.stdout
    r = json.loads(out.strip().splitlines()[-1])
    cold, warm = r["cold"], r["warm"]
    say()
    say(f"time to bars (navigation → all bars on screen painted, {cold['rows']} rows rendered)")
    say(f"  cold (empty cache):  {cold['ms']:.0f} ms, {cold['bars']} bars")
    say(f"  warm (median of 3):  {sorted(warm)[1]:.0f} ms")
    for name, s in (("all 200 rows", r["vertical"]), ("a month sideways", r["horizontal"])):
        say(
            f"scrolling {name}: {s['frames']} frames, p50 {s['p50']:.1f} ms, "
            f"p95 {s['p95']:.1f} ms, max {s['max']:.1f} ms"
        )
    say(
        f"JavaScript for /calendar: {cold['jsGzipBytes'] / 1024:.1f} kB gzipped "
        f"({cold['scripts']} files)"
    )


if __name__ == "__main__":
    main()
