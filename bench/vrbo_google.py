"""FeWo-direkt/Vrbo and Google Vacation Rentals figures, everything over real HTTP to the API
served as ``pms api`` serves it:

1. Vrbo real-time quoteRequest and bookingRequest latency (p50/p99) at 10 concurrent requests,
   next to our own public quote endpoint for the same stays in the same run (target: ≤ 1 s p99);
2. Vrbo feeds for N properties x 365 days: size and build time of the four indexes and every
   content document, and the cost of the same pull once nothing changed (304s);
3. Google: size and build time of the Hotel List Feed and of the ARI messages (rates,
   inventory, per-restriction availability) for N listings x 365 nights with a different
   price every night (the worst case for run-length batching).

    .venv/bin/python -m bench.vrbo_google [--properties 1000] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx

from bench.harness import (
    LoadResult,
    RequestMaker,
    python,
    request_head,
    run_load,
    say,
    serve,
    server_env,
    services,
)
from pms.channel.adapters import google
from pms.channel.adapters.base import NightValues, Run
from pms.embedded.process import free_port

PASSWORD = "bench-vrbo-feed-password"
CLIENTS = 10


async def setup(api: str, n: int) -> tuple[dict[str, str], str, str, list[str]]:
    """An agency with ``n`` listed, priced properties, one Vrbo connection mapping them all."""
    async with httpx.AsyncClient(timeout=120) as c:
        r = await c.post(
            f"{api}/api/v1/auth/signup",
            json={
                "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
                "password": "bench-password-123",
                "agency_name": "Bench Vrbo",
            },
        )
        r.raise_for_status()
        h = {"Authorization": f"Bearer {r.json()['access_token']}"}
        slug = (await c.get(f"{api}/api/v1/agency", headers=h)).json()["slug"]
        sem = asyncio.Semaphore(8)

        async def prop(i: int) -> str:
            async with sem:
                r = await c.post(
                    f"{api}/api/v1/properties",
                    json={
                        "name": f"Bench {i}",
                        "timezone": "Europe/Berlin",
                        "currency": "EUR",
                        "max_guests": 4,
                        "is_listed": True,
                    },
                    headers=h,
                )
                r.raise_for_status()
                pid: str = r.json()["id"]
                r = await c.post(
                    f"{api}/api/v1/properties/{pid}/rate-plans",
                    json={"name": "Standard", "base_price_minor": 10000 + i},
                    headers=h,
                )
                r.raise_for_status()
                return pid

        t0 = time.monotonic()
        props = await asyncio.gather(*(prop(i) for i in range(n)))
        listings = [f"v{i}" for i in range(n)]
        r = await c.post(
            f"{api}/api/v1/channel-connections",
            json={
                "platform": "fewo_direkt",
                "credentials": {
                    "username": "bench",
                    "password": PASSWORD,
                    "advertiser_id": "bench-advertiser",
                    "listings": ",".join(listings),
                },
            },
            headers=h,
        )
        r.raise_for_status()
        cid: str = r.json()["id"]

        async def mapping(i: int) -> None:
            async with sem:
                r = await c.post(
                    f"{api}/api/v1/channel-connections/{cid}/mappings",
                    json={"remote_listing_id": listings[i], "property_id": props[i]},
                    headers=h,
                )
                r.raise_for_status()

        await asyncio.gather(*(mapping(i) for i in range(n)))
        say(
            f"set-up: {n} properties, rate plans and Vrbo mappings in {time.monotonic() - t0:.1f} s"
        )
        return h, slug, cid, props


def _basic() -> str:
    return "Basic " + base64.b64encode(f"bench:{PASSWORD}".encode()).decode()


def _stay(c: int, k: int, n: int) -> tuple[int, date, date]:
    """Client ``c``'s ``k``-th stay: spread over listings and dates so bookings rarely clash."""
    slot = k * CLIENTS + c
    listing = slot % n
    start = datetime.now(UTC).date() + timedelta(days=30 + 3 * ((slot // n) % 100))
    return listing, start, start + timedelta(days=2)


def vrbo_maker(port: int, cid: str, n: int, kind: str) -> RequestMaker:
    path = f"/api/v1/channels/fewo_direkt/{cid}/booking"

    def make(c: int, k: int) -> tuple[bytes, bytes]:
        listing, check_in, check_out = _stay(c, k, n)
        tracking = f"<trackingUuid>{uuid.uuid4()}</trackingUuid>" if kind == "booking" else ""
        body = (
            f"<{kind}Request><documentVersion>1.2</documentVersion><{kind}RequestDetails>"
            f"<listingExternalId>v{listing}</listingExternalId>{tracking}<reservation>"
            "<numberOfAdults>2</numberOfAdults><reservationDates>"
            f"<beginDate>{check_in}</beginDate><endDate>{check_out}</endDate>"
            f"</reservationDates></reservation></{kind}RequestDetails></{kind}Request>"
        ).encode()
        head = request_head(
            "POST",
            path,
            port,
            {
                "authorization": _basic(),
                "content-type": "application/xml",
            },
        )
        return head, body

    return make


def public_maker(port: int, slug: str, props: list[str]) -> RequestMaker:
    def make(c: int, k: int) -> tuple[bytes, bytes]:
        listing, check_in, check_out = _stay(c, k, len(props))
        body = json.dumps(
            {
                "property_id": props[listing],
                "check_in": check_in.isoformat(),
                "check_out": check_out.isoformat(),
                "adults": 2,
            }
        ).encode()
        head = request_head(
            "POST",
            f"/api/v1/public/{slug}/quotes",
            port,
            {"content-type": "application/json"},
        )
        return head, body

    return make


async def vrbo_feeds(api: str, cid: str) -> None:
    base = f"{api}/api/v1/channels/fewo_direkt/{cid}/feeds"
    auth = ("bench", PASSWORD)
    async with httpx.AsyncClient(timeout=600, auth=auth) as c:

        async def pull(etags: dict[str, str]) -> tuple[float, int, int, list[float]]:
            t0 = time.monotonic()
            size = fetched = 0
            doc_times: list[float] = []
            r = await c.get(f"{base}/advertisersContentIndex")
            r.raise_for_status()
            index_urls = [el.split("</")[0] for el in r.text.split("Url>")[1::2]]
            for url in index_urls:
                t = time.monotonic()
                r = await c.get(url, headers={"If-None-Match": etags.get(url, "")})
                if r.status_code == 304:
                    took = time.monotonic() - t
                    say(f"  {url.rsplit('/', 1)[-1]}: 304 in {took:.3f} s")
                    continue
                r.raise_for_status()
                etags[url] = r.headers["etag"]
                size += len(r.content)
                fetched += 1
                took = time.monotonic() - t
                say(f"  {url.rsplit('/', 1)[-1]}: {len(r.content) / 1e6:.2f} MB in {took:.2f} s")
                urls = [u.split("</")[0] for u in r.text.split("ContentUrl>")[1::2]]

                async def doc(u: str, sem: asyncio.Semaphore) -> int:
                    async with sem:
                        t1 = time.monotonic()
                        d = await c.get(u, headers={"If-None-Match": etags.get(u, "")})
                        doc_times.append(time.monotonic() - t1)
                        if d.status_code == 304:
                            return 0
                        d.raise_for_status()
                        etags[u] = d.headers["etag"]
                        return len(d.content)

                sem = asyncio.Semaphore(4)
                sizes = await asyncio.gather(*(doc(u, sem) for u in urls))
                size += sum(sizes)
                fetched += sum(1 for s in sizes if s)
            return time.monotonic() - t0, size, fetched, doc_times

        etags: dict[str, str] = {}
        took, size, fetched, docs = await pull(etags)
        docs.sort()
        say(
            f"Vrbo feeds, first pull: {fetched} documents, {size / 1e6:.1f} MB in {took:.1f} s "
            f"(content document p50 {1000 * docs[len(docs) // 2]:.0f} ms, p99 "
            f"{1000 * docs[min(len(docs) - 1, int(0.99 * len(docs)))]:.0f} ms, 4 at a time)"
        )
        took, size, fetched, _ = await pull(etags)
        say(
            f"Vrbo feeds, unchanged pull (ETag → 304 for indexes): {fetched} documents re-read, "
            f"{size} bytes, {took:.2f} s"
        )
        # Every document asked again with its ETag (what a reader that skips the indexes does).
        urls = [u for u in etags if "ContentIndex" not in u]
        sem = asyncio.Semaphore(4)
        times: list[float] = []

        async def again(u: str) -> int:
            async with sem:
                t1 = time.monotonic()
                d = await c.get(u, headers={"If-None-Match": etags[u]})
                times.append(time.monotonic() - t1)
                return d.status_code

        t0 = time.monotonic()
        statuses = await asyncio.gather(*(again(u) for u in urls))
        took = time.monotonic() - t0
        times.sort()
        say(
            f"Vrbo feeds, {len(urls)} documents asked again with their ETag: "
            f"{statuses.count(304)} answered 304 in {took:.2f} s (p50 "
            f"{1000 * times[len(times) // 2]:.0f} ms, p99 "
            f"{1000 * times[min(len(times) - 1, int(0.99 * len(times)))]:.0f} ms, 4 at a time)"
        )


def google_build(n: int) -> None:
    start = datetime.now(UTC).date()
    t0 = time.monotonic()
    total = 0
    for i in range(n):
        runs = [
            Run(
                start + timedelta(days=d),
                start + timedelta(days=d + 1),
                NightValues(
                    available=d % 7 != 3,
                    price_minor=10000 + d,
                    min_stay=2,
                    max_stay=28,
                    closed_to_arrival=False,
                    closed_to_departure=False,
                ),
            )
            for d in range(365)
        ]
        adapter_batches = [runs[j : j + google.MAX_RUNS] for j in range(0, 365, google.MAX_RUNS)]
        for batch in adapter_batches:
            listing = f"vr-{i}"
            total += len(google.rate_amounts("p", listing, "EUR", batch, "m") or b"")
            total += len(google.inventory("p", listing, batch, "m"))
            total += len(google.availability("p", listing, batch, "m"))
    took = time.monotonic() - t0
    calls = 3 * ((365 + google.MAX_RUNS - 1) // google.MAX_RUNS)
    say(
        f"Google ARI messages for {n} listings x 365 nights (a new price every night): "
        f"{total / 1e6:.1f} MB in {took:.1f} s ({calls} calls per listing)"
    )
    infos = [
        google.ListingInfo(
            f"vr-{i}",
            str(uuid.uuid4()),
            f"Bench {i}",
            "Strandweg 1",
            "Westerland",
            "25980",
            "DE",
            Decimal("54.9"),
            Decimal("8.3"),
            4,
            f"http://127.0.0.1:3000/b/properties/{i}",
        )
        for i in range(n)
    ]
    t0 = time.monotonic()
    feed = google.hotel_list_feed(infos)
    took = time.monotonic() - t0
    say(f"Google Hotel List Feed for {n} listings: {len(feed) / 1e6:.2f} MB in {took:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--properties", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=15.0)
    args = ap.parse_args()
    with services() as svc, ExitStack() as stack:
        for note in svc.notes:
            say(note)
        port = free_port()
        env = server_env(svc)
        api = stack.enter_context(
            serve(
                "api",
                [python(), "-m", "pms", "api", "--host", "127.0.0.1", "--port", str(port)],
                env,
                port,
                "/health/live",
            )
        )

        async def go() -> None:
            _, slug, cid, props = await setup(api.base, args.properties)
            n = args.properties
            results: list[LoadResult] = []
            for name, make, expected in (
                ("public quote", public_maker(port, slug, props), 200),
                ("vrbo quoteRequest", vrbo_maker(port, cid, n, "quote"), 200),
                ("vrbo bookingRequest", vrbo_maker(port, cid, n, "booking"), 200),
            ):
                result = await run_load(
                    name,
                    port,
                    make,
                    clients=CLIENTS,
                    warmup=2,
                    seconds=args.seconds,
                    expected=expected,
                )
                results.append(result)
                say(result.line())
            say("(10 concurrent clients; target for Vrbo quote and booking: p99 ≤ 1000 ms)")
            await vrbo_feeds(api.base, cid)

        asyncio.run(go())
    google_build(args.properties)


if __name__ == "__main__":
    main()
