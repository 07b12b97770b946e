"""The guests' booking site in Chromium on a throttled mid-range phone (CDP: Fast 3G, CPU 4x).

Prints, for the search page (with dates, so priced results and the map) and the property page
(with a quoted stay), the HTML and JavaScript sent (raw and gzipped) and the time to first
contentful paint, cold and warm. Starts its own services, the API and the built web app.

    .venv/bin/python -m bench.web_guest_site        (or: make web-bench-guest)
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from bench.harness import python, say, serve, services
from pms.embedded import web
from pms.embedded.process import free_port

HOMES = 12


def seed(api: str) -> tuple[str, str]:
    """An agency with HOMES listed homes around Sylt with rates; (slug, a property id)."""
    with httpx.Client(base_url=api, timeout=30) as http:
        r = http.post(
            "/api/v1/auth/signup",
            json={
                "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
                "password": "bench-password-123",
                "agency_name": "Bench Site Stays",
            },
        )
        r.raise_for_status()
        h = {"authorization": f"Bearer {r.json()['access_token']}"}
        first = ""
        for i in range(HOMES):
            p = http.post(
                "/api/v1/properties",
                headers={**h, "idempotency-key": str(uuid.uuid4())},
                json={
                    "name": f"Haus {i + 1}",
                    "timezone": "Europe/Berlin",
                    "currency": "EUR",
                    "max_guests": 4,
                    "is_listed": True,
                    "city": "Westerland",
                    "latitude": f"{54.80 + i * 0.01:.4f}",
                    "longitude": f"{8.28 + i * 0.005:.4f}",
                    "amenities": ["wifi", "sauna"],
                    "description": "A house behind the dunes. " * 8,
                },
            )
            p.raise_for_status()
            first = first or p.json()["id"]
            http.post(
                f"/api/v1/properties/{p.json()['id']}/rate-plans",
                headers={**h, "idempotency-key": str(uuid.uuid4())},
                json={"name": "Standard", "base_price_minor": 9000 + i * 500},
            ).raise_for_status()
        slug = http.get("/api/v1/agency", headers=h).json()["slug"]
    return str(slug), str(first)


def main() -> None:
    say("guest site bench: search and property pages on a throttled phone, in Chromium")
    web.prepare()
    with services() as svc:
        env = {
            **os.environ,
            "DATABASE_URL": svc.database_url,
            "REDIS_URL": svc.redis_url,
            "LOG_LEVEL": "WARNING",
            "PUBLIC_REQUESTS_PER_MINUTE_PER_IP": "100000",
        }
        api_port = free_port()
        with serve(
            "api",
            [python(), "-m", "pms", "api", "--port", str(api_port)],
            env,
            api_port,
            "/health/live",
        ) as api:
            slug, prop = seed(api.base)
            start = datetime.now(UTC).date() + timedelta(days=30)
            stay = f"check_in={start}&check_out={start + timedelta(days=4)}&adults=2"
            pages = {"search": f"/{slug}?{stay}", "property": f"/{slug}/properties/{prop}?{stay}"}
            web_port = free_port()
            web_env = {**env, "API_URL": api.base, "NEXT_TELEMETRY_DISABLED": "1"}
            with serve(
                "web", web.start_argv("127.0.0.1", web_port), web_env, web_port, "/login"
            ) as app:
                run = subprocess.run(
                    ["node", "bench/guest_site.mjs"],
                    cwd=web.WEB_DIR,
                    env={**os.environ, "WEB_URL": app.base, "PAGES": json.dumps(pages)},
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                if run.returncode != 0:
                    raise SystemExit(f"bench/guest_site.mjs failed:\n{run.stderr[-3000:]}")
    r = json.loads(run.stdout.strip().splitlines()[-1])
    say()
    say("page       HTML (gzip)        JS (gzip, files)        first paint cold / warm")
    for name, m in r.items():
        c = m["cold"]
        say(
            f"{name:9}  {c['html'] / 1024:6.1f} kB ({c['htmlGzip'] / 1024:5.1f})  "
            f"{c['js'] / 1024:7.1f} kB ({c['jsGzip'] / 1024:5.1f}, {c['scripts']:2})  "
            f"{c['fcp']:8.0f} ms / {m['warm']:6.0f} ms"
        )


if __name__ == "__main__":
    main()
