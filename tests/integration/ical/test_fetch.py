"""Fetching feeds against a real HTTP server on loopback: limits, redirects, SSRF, validators."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import re
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from structlog.testing import capture_logs

from pms.channel.ical.fetch import (
    Fetched,
    FetchError,
    FetchPolicy,
    NotModified,
    fetch_feed,
    fetch_policy,
    is_public_address,
    redact_url,
)
from pms.channel.ical.parse import ParsedFeed, ParseError, parse_feed
from pms.channel.ical.reconcile import Apply, Decision, FeedBlock, Hold, HoldReason, decide
from pms.settings import get_settings, reset_settings_cache
from tests.services import wait_for

FEED = (Path(__file__).resolve().parents[2] / "fixtures" / "ical" / "airbnb_1_0.ics").read_bytes()
EMPTY_CALENDAR = (
    Path(__file__).resolve().parents[2] / "fixtures" / "ical" / "empty_calendar.ics"
).read_bytes()
ETAG = '"v1"'
LAST_MODIFIED = "Mon, 01 Jun 2026 08:00:00 GMT"
NEW_ETAG = '"v2"'
NEW_LAST_MODIFIED = "Tue, 02 Jun 2026 08:00:00 GMT"
MB = 1024 * 1024
LOOPBACK = FetchPolicy(allow_private=True, read_timeout=5, total_timeout=20)
ONLY_THIS_HOST = FetchPolicy(
    allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),), read_timeout=5, total_timeout=20
)


@dataclass
class FeedServer:
    base: str
    port: int
    hosts: list[str] = field(default_factory=list)  # Host header of every request seen
    feed_requests: list[dict[str, str]] = field(default_factory=list)  # headers, /feed.ics
    produced: dict[str, int] = field(default_factory=dict)


def build_app(server: FeedServer) -> Starlette:
    bomb = gzip.compress(b"\0" * 50 * MB, compresslevel=1)

    async def feed(request: Request) -> Response:
        server.hosts.append(request.headers.get("host", ""))
        server.feed_requests.append(dict(request.headers))
        if request.headers.get("if-none-match") == ETAG or (
            request.headers.get("if-modified-since") == LAST_MODIFIED
        ):
            return Response(status_code=304, headers={"ETag": ETAG})
        headers = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}
        return Response(FEED, media_type="text/calendar", headers=headers)

    async def error(request: Request) -> Response:
        server.hosts.append(request.headers.get("host", ""))
        return Response("oops", status_code=500)

    async def huge(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            chunk = b"X" * 64 * 1024
            for _ in range(50 * 16):  # 50 MB, no Content-Length
                if await request.is_disconnected():
                    return
                server.produced["huge"] = server.produced.get("huge", 0) + len(chunk)
                yield chunk

        return StreamingResponse(body(), media_type="text/calendar")

    async def huge_declared(request: Request) -> Response:
        return Response(b"", headers={"Content-Length": str(50 * MB)})

    async def gzip_bomb(request: Request) -> Response:
        return Response(bomb, headers={"Content-Encoding": "gzip"})

    async def slow(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            await asyncio.sleep(3)
            yield FEED

        return StreamingResponse(body(), media_type="text/calendar")

    async def trickle(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            for _ in range(600):
                await asyncio.sleep(0.05)
                yield b"X"

        return StreamingResponse(body(), media_type="text/calendar")

    async def redirect(request: Request) -> Response:
        hops = int(request.path_params["n"])
        target = "/feed.ics" if hops == 0 else f"/redirect/{hops - 1}"
        return RedirectResponse(target, status_code=302)

    def to(url: str) -> Route:
        async def endpoint(request: Request) -> Response:
            return RedirectResponse(url, status_code=307)

        return Route(f"/to/{abs(hash(url))}", endpoint)

    routes = [
        Route("/feed.ics", feed),
        Route("/secret/abc123/feed.ics", feed),
        Route("/status/500", error),
        Route("/huge", huge),
        Route("/huge-declared", huge_declared),
        Route("/gzip-bomb", gzip_bomb),
        Route("/slow", slow),
        Route("/trickle", trickle),
        Route("/redirect/{n:int}", redirect),
        Route("/garbage", lambda r: Response(b"<html><body>Service unavailable</body></html>")),
        Route("/empty.ics", lambda r: Response(EMPTY_CALENDAR, media_type="text/calendar")),
        Route("/to-private", lambda r: RedirectResponse("http://10.0.0.5/feed.ics", 302)),
        Route("/to-metadata", lambda r: RedirectResponse("http://169.254.169.254/latest/", 302)),
        Route("/to-ftp", lambda r: RedirectResponse("ftp://files.example/feed.ics", 302)),
        Route("/no-location", lambda r: Response(status_code=302)),
        Route(
            "/bad-location",
            lambda r: Response(status_code=301, headers={"Location": "http://[::g]/"}),
        ),
        Route(
            "/revalidated",
            lambda r: Response(
                status_code=304, headers={"ETag": NEW_ETAG, "Last-Modified": NEW_LAST_MODIFIED}
            ),
        ),
    ]
    return Starlette(routes=routes)


@pytest.fixture(scope="module")
def feed_server() -> Iterator[FeedServer]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = FeedServer(base=f"http://127.0.0.1:{port}", port=port)
    config = uvicorn.Config(
        build_app(server), log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: uv.started, timeout=10, what="feed server start")
    yield server
    uv.should_exit = True
    thread.join(timeout=10)
    sock.close()


# --- success and conditional GET --------------------------------------------------------------


async def test_fetches_a_feed_with_its_validators(feed_server: FeedServer) -> None:
    result = await fetch_feed(f"{feed_server.base}/feed.ics", policy=LOOPBACK)
    assert result == Fetched(FEED, ETAG, LAST_MODIFIED)
    assert parse_feed(result.body, "Europe/Berlin").ranges


async def test_conditional_get_gives_not_modified(feed_server: FeedServer) -> None:
    url = f"{feed_server.base}/feed.ics"
    assert await fetch_feed(url, etag=ETAG, policy=LOOPBACK) == NotModified(ETAG, None)
    by_date = await fetch_feed(url, last_modified=LAST_MODIFIED, policy=LOOPBACK)
    assert by_date == NotModified(ETAG, LAST_MODIFIED)


async def test_a_not_modified_answer_brings_the_servers_current_validators(
    feed_server: FeedServer,
) -> None:
    """The validators a 304 carries are the ones to send next time (RFC 9110 15.4.5); those the
    server leaves out stay as they were."""
    url = f"{feed_server.base}/revalidated"
    result = await fetch_feed(url, etag=ETAG, last_modified=LAST_MODIFIED, policy=LOOPBACK)
    assert result == NotModified(NEW_ETAG, NEW_LAST_MODIFIED)


async def test_the_request_names_the_client_what_it_accepts_and_its_validators(
    feed_server: FeedServer,
) -> None:
    url = f"{feed_server.base}/feed.ics"
    await fetch_feed(url, etag=ETAG, last_modified=LAST_MODIFIED, policy=LOOPBACK)
    sent = feed_server.feed_requests[-1]
    assert sent["user-agent"] == FetchPolicy().user_agent == "PMS-Webapp-iCal/1.0"
    assert sent["accept"] == "text/calendar, */*;q=0.5"
    assert (sent["if-none-match"], sent["if-modified-since"]) == (ETAG, LAST_MODIFIED)


async def test_a_proxy_in_the_environment_is_not_used(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fetch connects to the address it checked; a proxy would resolve the host again, out
    of the guard's sight. (Port 9 on loopback is closed: going through it would fail.)"""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    result = await fetch_feed(f"{feed_server.base}/feed.ics", policy=LOOPBACK)
    assert result == Fetched(FEED, ETAG, LAST_MODIFIED)


async def test_follows_a_few_redirects_but_not_too_many(feed_server: FeedServer) -> None:
    # /redirect/n answers with n + 1 redirects before the feed; the default allows 3.
    ok = await fetch_feed(f"{feed_server.base}/redirect/2", policy=LOOPBACK)
    assert isinstance(ok, Fetched)
    too_many = await fetch_feed(f"{feed_server.base}/redirect/3", policy=LOOPBACK)
    assert isinstance(too_many, FetchError)
    assert too_many.kind == "too_many_redirects"


async def test_connects_to_the_checked_address_and_keeps_the_host_name(
    feed_server: FeedServer,
) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "calendar.test" else []

    url = f"http://calendar.test:{feed_server.port}/feed.ics"
    result = await fetch_feed(url, policy=ONLY_THIS_HOST, resolver=resolver)
    assert isinstance(result, Fetched)
    assert feed_server.hosts[-1] == f"calendar.test:{feed_server.port}"


def _link_local_address() -> str | None:
    """An IPv6 link-local address of this machine with its zone (``fe80::…%eth0``), if any."""
    try:
        lines = Path("/proc/net/if_inet6").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        hex_address, _index, _prefix, scope, _flags, name = line.split()
        if scope == "20":  # link-local
            address = ipaddress.IPv6Address(bytes.fromhex(hex_address))
            return f"{address}%{name}"
    return None


async def test_a_link_local_feed_that_the_settings_allow_is_fetched_through_its_zone() -> None:
    """``ICAL_ALLOWED_NETWORKS`` may allow a link-local network (a feed on the local segment):
    such an address means nothing without its zone (the interface), so the connection keeps
    the zone the resolver gave."""
    address = _link_local_address()
    if address is None:
        pytest.skip("this machine has no IPv6 link-local address")
    seen: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(FEED) + FEED)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, address, 0)
    port = server.sockets[0].getsockname()[1]

    async def resolver(host: str, port: int) -> list[str]:
        return [address] if host == "calendar.test" else []

    policy = FetchPolicy(
        allowed_networks=(ipaddress.ip_network("fe80::/10"),), read_timeout=5, total_timeout=20
    )
    async with server:
        result = await fetch_feed(
            f"http://calendar.test:{port}/feed.ics", policy=policy, resolver=resolver
        )
    assert isinstance(result, Fetched), result
    assert result.body == FEED
    assert f"host: calendar.test:{port}".encode() in seen[0].lower()


# --- failures ------------------------------------------------------------------------------------


async def test_http_500_is_an_http_status_error(feed_server: FeedServer) -> None:
    result = await fetch_feed(f"{feed_server.base}/status/500", policy=LOOPBACK)
    assert result == FetchError("http_status", "HTTP 500", 500)


async def test_a_redirect_without_a_usable_location_is_a_failed_fetch(
    feed_server: FeedServer,
) -> None:
    result = await fetch_feed(f"{feed_server.base}/no-location", policy=LOOPBACK)
    assert result == FetchError("http_status", "HTTP 302 without Location", 302)
    # httpx itself refuses a Location it cannot parse, before fetch_feed sees the answer.
    result = await fetch_feed(f"{feed_server.base}/bad-location", policy=LOOPBACK)
    assert result == FetchError("network", "RemoteProtocolError (RemoteProtocolError)")


async def test_a_body_of_exactly_the_limit_is_fetched(feed_server: FeedServer) -> None:
    """``max_bytes`` is the largest feed accepted, declared or read."""
    url = f"{feed_server.base}/feed.ics"
    at_limit = FetchPolicy(allow_private=True, max_bytes=len(FEED))
    assert await fetch_feed(url, policy=at_limit) == Fetched(FEED, ETAG, LAST_MODIFIED)
    over = FetchPolicy(allow_private=True, max_bytes=len(FEED) - 1)
    assert await fetch_feed(url, policy=over) == FetchError(
        "too_large", f"declared {len(FEED)} bytes > {len(FEED) - 1}"
    )


async def test_a_50_mb_body_is_cut_off_without_reading_it_all(feed_server: FeedServer) -> None:
    result = await fetch_feed(f"{feed_server.base}/huge", policy=LOOPBACK)
    assert isinstance(result, FetchError)
    assert result.kind == "too_large"
    # While we read, flow control keeps the server at most a few buffers ahead of us; once we hang
    # up it stops. So it never got to produce the whole body.
    assert feed_server.produced["huge"] < 25 * MB


async def test_a_declared_50_mb_body_is_refused_before_reading(feed_server: FeedServer) -> None:
    result = await fetch_feed(f"{feed_server.base}/huge-declared", policy=LOOPBACK)
    assert result == FetchError("too_large", f"declared {50 * MB} bytes > {5 * MB}")


async def test_a_compressed_body_is_limited_after_decompression(feed_server: FeedServer) -> None:
    result = await fetch_feed(f"{feed_server.base}/gzip-bomb", policy=LOOPBACK)
    assert isinstance(result, FetchError)
    assert result.kind == "too_large"


async def test_a_server_that_does_not_answer_times_out(feed_server: FeedServer) -> None:
    policy = FetchPolicy(allow_private=True, read_timeout=0.3)
    result = await fetch_feed(f"{feed_server.base}/slow", policy=policy)
    assert result == FetchError("timeout", "ReadTimeout")


async def test_a_trickling_server_hits_the_total_deadline(feed_server: FeedServer) -> None:
    policy = FetchPolicy(allow_private=True, read_timeout=2, total_timeout=0.5)
    result = await fetch_feed(f"{feed_server.base}/trickle", policy=policy)
    assert isinstance(result, FetchError)
    assert result.kind == "timeout"


async def test_name_resolution_that_fails_is_a_network_error_or_a_timeout() -> None:
    """A host is resolved within the connect timeout; what goes wrong says why."""

    async def never(host: str, port: int) -> list[str]:
        await asyncio.Event().wait()
        return []

    async def unknown(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def nothing(host: str, port: int) -> list[str]:
        return []

    url = "http://calendar.test/feed.ics"
    quick = FetchPolicy(connect_timeout=0.2, total_timeout=20)
    assert await fetch_feed(url, policy=quick, resolver=never) == FetchError(
        "timeout", "name resolution timed out"
    )
    assert await fetch_feed(url, resolver=unknown) == FetchError(
        "network", "cannot resolve host (gaierror)"
    )
    assert await fetch_feed(url, resolver=nothing) == FetchError("network", "host has no address")

    async def garbled(host: str, port: int) -> list[str]:
        return ["not-an-address"]

    assert await fetch_feed(url, resolver=garbled) == FetchError(
        "network", "resolver returned a malformed address"
    )


async def test_a_closed_port_is_a_network_error() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    result = await fetch_feed(f"http://127.0.0.1:{port}/feed.ics", policy=LOOPBACK)
    assert isinstance(result, FetchError)
    assert result.kind == "network"
    # The detail gives the operating system's reason, as a connection of our own gets it.
    with pytest.raises(ConnectionRefusedError) as refused:
        await asyncio.open_connection("127.0.0.1", port)
    assert result.detail == f"cannot connect ({refused.value.strerror})"


async def test_a_transport_error_without_an_os_reason_is_named_by_its_type() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result = await fetch_feed(f"http://127.0.0.1:{port}/feed.ics", policy=LOOPBACK)
    assert result == FetchError("network", "RemoteProtocolError (RemoteProtocolError)")


# --- SSRF --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "[::1]", "2130706433", "0.0.0.0", "[::ffff:127.0.0.1]"]
)
async def test_loopback_is_blocked_unless_allowed(feed_server: FeedServer, host: str) -> None:
    seen = len(feed_server.hosts)
    result = await fetch_feed(f"http://{host}:{feed_server.port}/feed.ics")
    assert isinstance(result, FetchError)
    assert result.kind == "blocked_address"
    assert len(feed_server.hosts) == seen  # no request was made


@pytest.mark.parametrize("path", ["/to-private", "/to-metadata"])
async def test_a_redirect_to_a_private_address_is_blocked(
    feed_server: FeedServer, path: str
) -> None:
    result = await fetch_feed(f"{feed_server.base}{path}", policy=ONLY_THIS_HOST)
    assert isinstance(result, FetchError)
    assert result.kind == "blocked_address"


async def test_a_host_with_any_private_address_is_blocked(feed_server: FeedServer) -> None:
    async def rebinding(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "127.0.0.1"]

    seen = len(feed_server.hosts)
    result = await fetch_feed(
        f"http://calendar.test:{feed_server.port}/feed.ics", resolver=rebinding
    )
    assert isinstance(result, FetchError)
    assert result.kind == "blocked_address"
    assert len(feed_server.hosts) == seen


@pytest.mark.parametrize(
    "url",
    ["ftp://files.example/feed.ics", "file:///etc/passwd", "webcal:", "http:///feed.ics", "::"],
)
async def test_only_http_and_https_urls_are_fetched(url: str) -> None:
    result = await fetch_feed(url)
    assert isinstance(result, FetchError)
    assert result.kind == "bad_scheme"


async def test_a_url_httpx_cannot_parse_is_refused_as_such() -> None:
    assert await fetch_feed("http://[::g]/feed.ics") == FetchError("bad_scheme", "not a valid URL")


def test_the_settings_make_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """ICAL_ALLOWED_NETWORKS is a comma-separated list of networks; one written with its host
    bits set (``10.1.2.3/8``) means its network, and empty entries are skipped."""
    monkeypatch.setenv("ICAL_ALLOWED_NETWORKS", " 10.1.2.3/8, ,fd00::1/8 ")
    monkeypatch.setenv("ICAL_ALLOW_PRIVATE", "false")
    monkeypatch.setenv("ICAL_MAX_FEED_BYTES", "1000")
    monkeypatch.setenv("ICAL_FETCH_TIMEOUT_SECONDS", "7")
    reset_settings_cache()
    try:
        policy = fetch_policy(get_settings())
    finally:
        monkeypatch.undo()
        reset_settings_cache()
    networks = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))
    assert policy == FetchPolicy(allowed_networks=networks, max_bytes=1000, total_timeout=7)


async def test_a_redirect_to_another_scheme_is_refused(feed_server: FeedServer) -> None:
    result = await fetch_feed(f"{feed_server.base}/to-ftp", policy=LOOPBACK)
    assert isinstance(result, FetchError)
    assert result.kind == "bad_scheme"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("4000::1", False),  # IPv6 space the IETF reserved: Python calls it global, too
        ("ff02::1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::1", False),  # 6to4 wrapping 127.0.0.1
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
    ],
)
def test_public_address_classification(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


# --- the URL is a secret ---------------------------------------------------------------------


def test_redacted_urls_keep_the_origin_and_hide_the_rest() -> None:
    url = "https://www.airbnb.com/calendar/ical/123.ics?s=0123456789abcdef"
    redacted = redact_url(url)
    assert redacted.startswith("https://www.airbnb.com/…#")
    assert "0123456789abcdef" not in redacted
    assert "calendar" not in redacted
    assert redact_url(url) == redacted
    assert redact_url(url + "x") != redacted
    assert redact_url("::").startswith("invalid-url:")
    with_login = redact_url("https://owner:hunter2@cal.example:8443/x.ics")
    assert with_login.startswith("https://cal.example:8443/…#")
    assert "hunter2" not in with_login
    # A URL that is not even valid Unicode (a lone surrogate, as JSON can carry) still redacts.
    odd = redact_url("https://cal.example/\udc80.ics")
    assert re.fullmatch(r"[^#]+/…#[0-9a-f]{12}", odd)


async def test_logs_and_errors_never_contain_the_feed_url(feed_server: FeedServer) -> None:
    secret = "abc123"
    with capture_logs() as logs:
        ok = await fetch_feed(f"{feed_server.base}/secret/{secret}/feed.ics", policy=LOOPBACK)
        missing = await fetch_feed(f"{feed_server.base}/secret/{secret}/nope.ics", policy=LOOPBACK)
        blocked = await fetch_feed(f"http://127.0.0.1:{feed_server.port}/secret/{secret}/x")
    assert isinstance(ok, Fetched)
    assert isinstance(missing, FetchError)
    assert isinstance(blocked, FetchError)
    assert len(logs) == 3
    text = repr(logs) + repr(missing) + repr(blocked)
    assert secret not in text
    assert logs[0]["feed"].startswith(f"{feed_server.base}/…#")


async def test_each_fetch_logs_one_line_with_its_outcome(feed_server: FeedServer) -> None:
    """What an operator reads of each fetch: the feed (redacted), the outcome, and the kind
    and HTTP status of a failure or the size of a feed."""
    with capture_logs() as logs:
        await fetch_feed(f"{feed_server.base}/feed.ics", policy=LOOPBACK)
        await fetch_feed(f"{feed_server.base}/status/500", policy=LOOPBACK)
        await fetch_feed(f"http://127.0.0.1:{feed_server.port}/feed.ics")
    fields = ("event", "log_level", "outcome", "kind", "status", "size")
    assert [{k: line.get(k, "absent") for k in fields} for line in logs] == [
        {
            "event": "ical.fetch",
            "log_level": "info",
            "outcome": "Fetched",
            "kind": None,
            "status": None,
            "size": len(FEED),
        },
        {
            "event": "ical.fetch",
            "log_level": "info",
            "outcome": "FetchError",
            "kind": "http_status",
            "status": 500,
            "size": None,
        },
        {
            "event": "ical.fetch",
            "log_level": "info",
            "outcome": "FetchError",
            "kind": "blocked_address",
            "status": None,
            "size": None,
        },
    ]


# --- https: the pinned address still gets SNI and certificate checks for the host name --------


@dataclass
class TlsServer:
    port: int
    trust: ssl.SSLContext


def write_test_pki(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate for ``calendar.test`` signed by it."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "iCal test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "calendar.test")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("calendar.test")]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    ca, cert, key = write_test_pki(tmp_path_factory.mktemp("pki"))

    async def feed(request: Request) -> Response:
        return Response(FEED, media_type="text/calendar")

    app = Starlette(
        routes=[
            Route("/feed.ics", feed),
            Route("/downgrade", lambda r: RedirectResponse("http://calendar.test/feed.ics", 302)),
        ]
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        timeout_graceful_shutdown=1,
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: uv.started, timeout=10, what="TLS feed server start")
    yield TlsServer(sock.getsockname()[1], ssl.create_default_context(cafile=str(ca)))
    uv.should_exit = True
    thread.join(timeout=10)
    sock.close()


async def to_loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


async def test_https_to_a_pinned_address_verifies_the_host_name(tls_server: TlsServer) -> None:
    result = await fetch_feed(
        f"https://calendar.test:{tls_server.port}/feed.ics",
        policy=ONLY_THIS_HOST,
        resolver=to_loopback,
        ssl_context=tls_server.trust,
    )
    assert isinstance(result, Fetched)
    assert result.body == FEED


async def test_https_with_a_certificate_for_another_name_fails(tls_server: TlsServer) -> None:
    result = await fetch_feed(
        f"https://elsewhere.test:{tls_server.port}/feed.ics",
        policy=ONLY_THIS_HOST,
        resolver=to_loopback,
        ssl_context=tls_server.trust,
    )
    assert isinstance(result, FetchError)
    assert result.kind == "network"


async def test_https_to_http_redirect_is_refused(tls_server: TlsServer) -> None:
    result = await fetch_feed(
        f"https://calendar.test:{tls_server.port}/downgrade",
        policy=ONLY_THIS_HOST,
        resolver=to_loopback,
        ssl_context=tls_server.trust,
    )
    assert result == FetchError("bad_scheme", "redirect from https to http refused")


# --- the whole chain: no failure frees a night -------------------------------------------------


async def sync_once(url: str, previous: list[FeedBlock], policy: FetchPolicy) -> Decision:
    """What the sync task will do: fetch, parse, decide."""
    fetched = await fetch_feed(url, policy=policy)
    if not isinstance(fetched, Fetched):
        return decide(previous, fetched, today=date(2026, 6, 1))
    try:
        outcome: ParsedFeed | ParseError = parse_feed(fetched.body, "Europe/Berlin")
    except ParseError as exc:
        outcome = exc
    return decide(previous, outcome, today=date(2026, 6, 1))


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/empty.ics", HoldReason.SUDDENLY_EMPTY),
        ("/status/500", HoldReason.FETCH_FAILED),
        ("/slow", HoldReason.FETCH_FAILED),
        ("/garbage", HoldReason.UNPARSEABLE),
        ("/huge", HoldReason.FETCH_FAILED),
        ("/to-private", HoldReason.FETCH_FAILED),
    ],
)
async def test_no_failure_frees_a_night(
    feed_server: FeedServer, path: str, reason: HoldReason
) -> None:
    policy = FetchPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),), read_timeout=0.3)
    good = await sync_once(f"{feed_server.base}/feed.ics", [], policy)
    assert isinstance(good, Apply)
    previous = [FeedBlock(i, nights) for i, nights in enumerate(good.plan.add)]
    assert previous
    decision = await sync_once(f"{feed_server.base}{path}", previous, policy)
    assert isinstance(decision, Hold)
    assert decision.reason is reason
