"""Before/after: the same searches and calendars, asked of two builds of the app served against the
SAME database, must get the same JSON.

    git worktree add /work/wt-before 7682d05 && (cd /work/wt-before && make install)
    .venv/bin/python -m bench.compare_answers --before /work/wt-before

Starts embedded PostgreSQL and Redis and a fresh migrated database (``bench.harness``), serves
this checkout's app and the one in ``--before`` (its own virtualenv, its own code) with the same
environment, builds a varied agency through this checkout's API (tax classes inclusive and
exclusive, every kind of fee, visitor taxes, cancellation policies, seasons, weekday prices,
length-of-stay discounts, booking windows, closed / closed-to-arrival / closed-to-departure /
min-stay overrides, bookings and blocks, an owner with their own properties), then asks both:

- ``--searches`` random public searches (stay 0-150 days ahead, 1-14 nights, 1-6 adults,
  children, pets, filters, radius, sort, limit), each a new query;
- ``--calendars`` random calendars: the bulk per-day form as staff and as an owner, one
  property's availability, and the public date picker;
- the same bulk windows in the range form, byte for byte against the before build's range
  form (skipped for a build without one), and drawn as days against its per-day answer.

Prints "N/N identical" per kind and exits non-zero on any difference. The old build caches
answers; that changes nothing here, since the data do not change while the questions are asked.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import sys
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench.harness import python, say, serve, server_env, services
from pms.embedded.process import free_port

PASSWORD = "bench-password-123456"
CITIES = ("Westerland", "Kampen", "List", "Hörnum", "Wenningstedt")
AMENITIES = ("wifi", "sauna", "parking", "pets_allowed", "sea_view")
HORIZON = 150


@dataclass
class World:
    slug: str
    admin: dict[str, str]
    owner: dict[str, str]
    property_ids: list[str] = field(default_factory=list)
    owned_ids: list[str] = field(default_factory=list)


def _check(r: httpx.Response, *ok: int) -> Any:
    if r.status_code not in (ok or (200, 201)):
        raise RuntimeError(f"{r.request.method} {r.request.url}: {r.status_code} {r.text[:400]}")
    return r.json() if r.content else None


async def build(client: httpx.AsyncClient, rng: random.Random, n_props: int) -> World:
    """A varied agency through the API (the writes are the same code in both builds)."""
    body = _check(
        await client.post(
            "/api/v1/auth/signup",
            json={
                "email": f"cmp-{uuid.uuid4().hex[:8]}@example.com",
                "password": PASSWORD,
                "agency_name": "Compare Holidays",
            },
        )
    )
    admin = {"authorization": f"Bearer {body['access_token']}"}
    invite = _check(
        await client.post(
            "/api/v1/members",
            json={"email": f"owner-{uuid.uuid4().hex[:8]}@example.com", "role": "owner"},
            headers=admin,
        )
    )
    accepted = _check(
        await client.post(
            "/api/v1/invitations/accept", json={"token": invite["token"], "password": PASSWORD}
        )
    )
    owner = {"authorization": f"Bearer {accepted['tokens']['access_token']}"}
    owner_id = accepted["user_id"]
    slug = _check(await client.get("/api/v1/agency", headers=admin))["slug"]

    async def post(path: str, payload: dict[str, Any]) -> str:
        return str(_check(await client.post(path, json=payload, headers=admin))["id"])

    red = await post("/api/v1/tax-classes", {"code": "RED7", "rate_percent": "7"})
    std = await post("/api/v1/tax-classes", {"code": "STD19", "rate_percent": "19"})
    inc = await post(
        "/api/v1/tax-classes", {"code": "INC10", "rate_percent": "10", "inclusive": True}
    )
    fee_bodies: list[dict[str, Any]] = [
        {"code": "cleaning", "kind": "per_stay", "amount_minor": 5000, "tax_class_id": std},
        {"code": "linen", "kind": "per_night", "amount_minor": 350},
        {"code": "towels", "kind": "per_guest_per_night", "amount_minor": 125, "tax_class_id": red},
        {
            "code": "extra",
            "kind": "per_extra_guest_per_night",
            "amount_minor": 1000,
            "guests_included": 2,
            "tax_class_id": std,
        },
        {"code": "pet", "kind": "per_pet", "amount_minor": 2500, "tax_class_id": inc},
        {"code": "service", "kind": "percent_of_accommodation", "percent": "10.5"},
        {
            "code": "booking",
            "kind": "percent_of_accommodation",
            "percent": "3.33",
            "tax_class_id": inc,
        },
    ]
    fees = [await post("/api/v1/fees", {"currency": "EUR", **b}) for b in fee_bodies]
    taxes = [
        await post(
            "/api/v1/visitor-taxes",
            {"name": "Sylt", "currency": "EUR", "amount_minor": 350, "child_age_limit": 16},
        ),
        await post(
            "/api/v1/visitor-taxes",
            {
                "name": "Amrum",
                "currency": "EUR",
                "amount_minor": 215,
                "child_age_limit": 6,
                "max_nights": 5,
            },
        ),
    ]
    policies = [
        await post(
            "/api/v1/cancellation-policies",
            {"name": "Flexible", "rules": [{"days_before": 7, "refund_percent": "100"}]},
        ),
        await post(
            "/api/v1/cancellation-policies",
            {
                "name": "Strict",
                "rules": [
                    {"days_before": 30, "refund_percent": "80"},
                    {"days_before": 7, "refund_percent": "33.5"},
                ],
            },
        ),
    ]
    world = World(slug, admin, owner)
    today = datetime.now(UTC).date()
    for i in range(n_props):
        owned = i % 5 == 0
        prop = {
            "name": f"Haus {rng.choice('ABCDEFGH')}{i:03d}",
            "timezone": rng.choice(("Europe/Berlin", "Europe/Berlin", "America/New_York")),
            "currency": "EUR",
            "max_guests": rng.randint(2, 8),
            "bedrooms": rng.randint(1, 4),
            "city": rng.choice(CITIES),
            "latitude": f"{54.75 + rng.random() * 0.3:.6f}",
            "longitude": f"{8.27 + rng.random() * 0.15:.6f}",
            "amenities": rng.sample(AMENITIES, rng.randint(0, 3)),
            "is_listed": i % 11 != 10,
            **({"owner_user_id": owner_id} if owned else {}),
        }
        pid = await post("/api/v1/properties", prop)
        world.property_ids.append(pid)
        if owned:
            world.owned_ids.append(pid)
        min_stay = rng.choice((1, 1, 2, 3))
        plan = await post(
            f"/api/v1/properties/{pid}/rate-plans",
            {
                "name": "Standard",
                "base_price_minor": rng.randrange(6000, 30000, 50),
                "default_min_stay": min_stay,
                "default_max_stay": rng.choice((None, None, 21)),
                "weekday_prices": rng.choice(({}, {"4": 19900, "5": 21900})),
                "los_discounts": rng.choice(
                    (
                        [],
                        [{"min_nights": 7, "percent": "10"}],
                        [
                            {"min_nights": 3, "percent": "2.5"},
                            {"min_nights": 7, "percent": "12.75"},
                        ],
                    )
                ),
                "min_lead_days": rng.choice((0, 0, 1, 3)),
                "max_advance_days": rng.choice((None, None, 60, 120)),
            },
        )
        start = today + timedelta(days=rng.randint(0, 60))
        await post(
            f"/api/v1/rate-plans/{plan}/seasons",
            {
                "name": "High",
                "start": start.isoformat(),
                "end": (start + timedelta(days=rng.randint(7, 40))).isoformat(),
                "price_minor": rng.randrange(9000, 40000, 50),
                "min_stay": rng.choice((None, 2, 4)),
                "weekday_prices": rng.choice(({}, {"5": 45000})),
            },
        )
        ranges = []
        for field_name in ("closed", "closed_to_arrival", "closed_to_departure", "min_stay"):
            if rng.random() < 0.6:
                day = today + timedelta(days=rng.randint(0, HORIZON))
                value: Any = rng.randint(2, 5) if field_name == "min_stay" else True
                ranges.append(
                    {
                        "start": day.isoformat(),
                        "end": (day + timedelta(days=rng.randint(1, 4))).isoformat(),
                        field_name: value,
                    }
                )
        if rng.random() < 0.3:
            day = today + timedelta(days=rng.randint(0, HORIZON))
            ranges.append(
                {
                    "start": day.isoformat(),
                    "end": (day + timedelta(days=3)).isoformat(),
                    "price_minor": 4999,
                }
            )
        if ranges:
            _check(
                await client.put(
                    f"/api/v1/rate-plans/{plan}/days", json={"ranges": ranges}, headers=admin
                )
            )
        if rng.random() < 0.8:
            _check(
                await client.put(
                    f"/api/v1/properties/{pid}/pricing",
                    json={
                        "accommodation_tax_class_id": rng.choice((None, red, inc)),
                        "visitor_tax_location_id": rng.choice((None, *taxes)),
                        "cancellation_policy_id": rng.choice((None, *policies)),
                        "fee_ids": rng.sample(fees, rng.randint(0, len(fees))),
                    },
                    headers=admin,
                )
            )
        day = today - timedelta(days=rng.randint(0, 10))
        while day < today + timedelta(days=HORIZON):
            day += timedelta(days=rng.randint(0, 12))
            end = day + timedelta(days=rng.randint(1, 7))
            if rng.random() < 0.2:
                _check(
                    await client.post(
                        "/api/v1/blocks",
                        json={
                            "property_id": pid,
                            "start": day.isoformat(),
                            "end": end.isoformat(),
                            "kind": rng.choice(("owner", "maintenance", "manual")),
                        },
                        headers=admin,
                    )
                )
            else:
                _check(
                    await client.post(
                        "/api/v1/bookings",
                        json={
                            "property_id": pid,
                            "check_in": day.isoformat(),
                            "check_out": end.isoformat(),
                            "adults": 2,
                            "source": rng.choice(("manual", "direct", "airbnb")),
                            "status": rng.choice(("confirmed", "confirmed", "requested")),
                            "override_restrictions": True,
                            "guest": {
                                "email": f"g{rng.randint(0, 40)}@example.com",
                                "first_name": rng.choice(("Greta", "Jan", "Ole", None)),
                                "last_name": rng.choice(("Gast", "Muster", "Meier")),
                            },
                        },
                        headers=admin,
                    )
                )
            day = end
    return world


def random_search(rng: random.Random, w: World, today: date) -> str:
    check_in = today + timedelta(days=rng.randint(-1, HORIZON))
    query: dict[str, Any] = {
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=rng.randint(1, 14))).isoformat(),
        "adults": rng.randint(1, 6),
    }
    if rng.random() < 0.4:
        query["children_ages"] = [rng.randint(0, 17) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.3:
        query["pets"] = rng.randint(1, 2)
    if rng.random() < 0.2:
        query["location"] = rng.choice(("kampen", "LIST", "haus a", "west"))
    if rng.random() < 0.2:
        query["amenities"] = rng.sample(AMENITIES, rng.randint(1, 2))
    if rng.random() < 0.15:
        query["min_bedrooms"] = rng.randint(1, 3)
    if rng.random() < 0.25:
        query["lat"], query["lng"] = 54.9, 8.34
        if rng.random() < 0.6:
            query["radius_km"] = rng.choice((3, 8, 15))
        if rng.random() < 0.6:
            query["sort"] = "distance"
    if rng.random() < 0.3:
        query["limit"] = rng.choice((1, 5, 200))
    return f"/api/v1/public/{w.slug}/search?{urlencode(query, doseq=True)}"


def random_calendar(rng: random.Random, w: World, today: date, k: int) -> tuple[str, str]:
    """(kind, path); the headers follow from the kind."""
    start = today + timedelta(days=rng.randint(-20, HORIZON))
    end = start + timedelta(days=rng.randint(1, 62))
    window = f"start={start}&end={end}"
    kind = ("staff", "owner", "property", "public")[k % 4]
    if kind in ("staff", "owner"):
        pool = w.property_ids if kind == "staff" else w.owned_ids
        ids = rng.sample(pool, rng.randint(1, len(pool))) if rng.random() < 0.6 else []
        query = "".join(f"&property_ids={pid}" for pid in ids)
        return kind, f"/api/v1/calendar?{window}{query}"
    if kind == "property":
        return kind, f"/api/v1/properties/{rng.choice(w.property_ids)}/availability?{window}"
    listed = [p for i, p in enumerate(w.property_ids) if i % 11 != 10]
    return kind, f"/api/v1/public/{w.slug}/properties/{rng.choice(listed)}/calendar?{window}"


def drawn(ranges: dict[str, Any]) -> dict[str, Any]:
    """The range form drawn as the per-day form (status, id and label per day)."""
    start = date.fromisoformat(ranges["start"])
    n = (date.fromisoformat(ranges["end"]) - start).days
    out = []
    for prop in ranges["properties"]:
        days: list[dict[str, Any]] = [
            {
                "date": (start + timedelta(days=i)).isoformat(),
                "status": "free",
                "booking_id": None,
                "block_id": None,
                "label": None,
            }
            for i in range(n)
        ]
        for r in prop["ranges"]:
            first = max(0, (date.fromisoformat(r["start"]) - start).days)
            last = min(n, (date.fromisoformat(r["end"]) - start).days)
            for i in range(first, last):
                days[i].update(
                    status=r["kind"],
                    booking_id=r.get("booking_id"),
                    block_id=r.get("block_id"),
                    label=r["label"],
                )
        out.append({"property_id": prop["property_id"], "days": days})
    return {"start": ranges["start"], "end": ranges["end"], "properties": out}


def per_day(body: dict[str, Any]) -> dict[str, Any]:
    """The per-day answer with its defaults written out (free days omit ids and label)."""
    return {
        **body,
        "properties": [
            {
                "property_id": p["property_id"],
                "days": [
                    {"booking_id": None, "block_id": None, "label": None, **d} for d in p["days"]
                ],
            }
            for p in body["properties"]
        ],
    }


def _diff(a: Any, b: Any, path: str = "") -> str:
    if type(a) is not type(b):
        return f"{path}: {a!r:.200} != {b!r:.200}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _diff(a.get(key), b.get(key), f"{path}.{key}")
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _diff(x, y, f"{path}[{i}]")
    return f"{path}: {a!r:.200} != {b!r:.200}"


async def compare(args: argparse.Namespace, after: str, before: str) -> int:
    rng = random.Random(args.seed)
    async with (
        httpx.AsyncClient(base_url=after, timeout=120) as new,
        httpx.AsyncClient(base_url=before, timeout=120) as old,
    ):
        t = time.perf_counter()
        w = await build(new, rng, args.properties)
        say(
            f"agency built through the API in {time.perf_counter() - t:.1f} s: "
            f"{len(w.property_ids)} properties ({len(w.owned_ids)} an owner's), slug {w.slug}"
        )
        today = datetime.now(UTC).date()
        failures = 0

        async def ask(path: str, headers: dict[str, str]) -> tuple[Any, Any]:
            a, b = await asyncio.gather(
                new.get(path, headers=headers), old.get(path, headers=headers)
            )
            return (a.status_code, a.json()), (b.status_code, b.json())

        same = offered = 0
        for _ in range(args.searches):
            path = random_search(rng, w, today)
            a, b = await ask(path, {})
            offered += a[1].get("count", 0) if a[0] == 200 else 0
            if a == b:
                same += 1
            else:
                say(f"  DIFFERENT {path}\n    {_diff(a, b)}")
        say(f"searches: {same}/{args.searches} identical ({offered} offers in all)")
        failures += args.searches - same

        same = 0
        kinds: dict[str, int] = {}
        bulk: list[tuple[str, str, dict[str, Any]]] = []
        for k in range(args.calendars):
            kind, path = random_calendar(rng, w, today, k)
            headers = w.owner if kind == "owner" else w.admin if kind != "public" else {}
            a, b = await ask(path, headers)
            kinds[kind] = kinds.get(kind, 0) + 1
            if a == b:
                same += 1
            else:
                say(f"  DIFFERENT {kind} {path}\n    {_diff(a, b)}")
            if kind in ("staff", "owner") and b[0] == 200:
                bulk.append((kind, path, b[1]))
        detail = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
        say(f"calendars: {same}/{args.calendars} identical ({detail})")
        failures += args.calendars - same

        same = asked = 0
        for kind, path, _ in bulk:
            headers = w.owner if kind == "owner" else w.admin
            ranges_path = path.replace("/calendar?", "/calendar/ranges?")
            a_raw = await new.get(ranges_path, headers=headers)
            b_raw = await old.get(ranges_path, headers=headers)
            if b_raw.status_code == 404 and a_raw.status_code == 200:
                continue  # a build from before the range form
            asked += 1
            if (a_raw.status_code, a_raw.content) == (b_raw.status_code, b_raw.content):
                same += 1
            else:
                say(f"  DIFFERENT range form bytes {ranges_path}")
        if asked:
            say(f"range form vs the before build's range form, byte for byte: {same}/{asked}")
            failures += asked - same

        same = 0
        for kind, path, old_days in bulk:
            headers = w.owner if kind == "owner" else w.admin
            r = await new.get(path.replace("/calendar?", "/calendar/ranges?"), headers=headers)
            if r.status_code == 200 and drawn(r.json()) == per_day(old_days):
                same += 1
            else:
                say(
                    f"  DIFFERENT range form {path}\n"
                    f"    {_diff(drawn(r.json()), per_day(old_days))}"
                )
        say(
            "range form drawn as days vs the before build's per-day form: "
            f"{same}/{len(bulk)} identical"
        )
        failures += len(bulk) - same
    return 1 if failures else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--before", type=Path, required=True, help="checkout of the old build (with .venv)"
    )
    p.add_argument("--properties", type=int, default=30)
    p.add_argument("--searches", type=int, default=100)
    p.add_argument("--calendars", type=int, default=100)
    p.add_argument("--seed", type=int, default=13)
    args = p.parse_args()
    before_python = args.before / ".venv" / "bin" / "python"
    if not before_python.exists():
        p.error(f"{before_python} missing: run `make install` in {args.before}")

    def on_term(signum: int, _: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    say(f"bench.compare_answers  {time.strftime('%Y-%m-%d %H:%M:%S')}")
    with ExitStack() as stack:
        svc = stack.enter_context(services())
        for note in svc.notes:
            say(note)
        env = server_env(svc)
        env.pop("VIRTUAL_ENV", None)
        after_port, before_port = free_port(), free_port()
        after_argv = [
            python(),
            "-m",
            "pms",
            "api",
            "--host",
            "127.0.0.1",
            "--port",
            str(after_port),
        ]
        before_argv = [
            str(before_python),
            "-m",
            "pms",
            "api",
            "--host",
            "127.0.0.1",
            "--port",
            str(before_port),
        ]
        after = stack.enter_context(serve("after", after_argv, env, after_port, "/health/live"))
        before = stack.enter_context(
            serve("before", before_argv, env, before_port, "/health/live", cwd=args.before)
        )
        say(
            f"after: this checkout on {after_port}; before: {args.before} on {before_port}; "
            "one database, one Redis"
        )
        code = asyncio.run(compare(args, after.base, before.base))
    say("stopped every process this bench started")
    return code


if __name__ == "__main__":
    sys.exit(main())
