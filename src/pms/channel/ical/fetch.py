"""Fetch a feed URL safely: http(s) only, public addresses only, bounded time, size and redirects.

SSRF and DNS rebinding: every hop's host is resolved here, *every* resolved address must be
public (or explicitly allowed), and the request then connects to one of exactly those checked
addresses. The URL's host name still goes into the ``Host`` header and, for https, into TLS SNI and
certificate verification, so virtual hosting and TLS work as usual. Because the connection never
resolves the name again, a DNS answer that changes between check and connect cannot redirect us
to an internal address. Proxies from the environment are ignored for the same reason.

A feed URL is a secret (it grants read access to someone's calendar): only ``redact_url`` forms
appear in logs and in error details.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import certifi
import httpx
import structlog

from pms.settings import Settings

# httpx loads its transport stack (httpcore, h11, anyio's asyncio backend) on first use; loading it
# with this module keeps that one-off ~100 ms off the event loop of the first fetch.
for _name in ("httpcore", "h11", "anyio._backends._asyncio", "httpcore._backends.anyio"):
    importlib.import_module(_name)

log = structlog.get_logger(__name__)

FetchErrorKind = Literal[
    "timeout",
    "http_status",
    "too_large",
    "blocked_address",
    "bad_scheme",
    "too_many_redirects",
    "network",
]
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

# Loading the CA bundle holds the GIL for up to ~100 ms, which would stall the event loop even from
# a worker thread; so it happens once, when the module is imported, before any loop runs.
_SSL_CONTEXT = ssl.create_default_context(cafile=certifi.where())

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Fetched:
    """A 200 response; ``etag``/``last_modified`` are the validators for the next GET."""

    body: bytes
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class NotModified:
    """The server answered 304 to our validators: the previous parse still stands."""

    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class FetchError:
    """Why nothing usable came back; ``detail`` is safe to log and show (no URL in it)."""

    kind: FetchErrorKind
    detail: str
    status: int | None = None


FetchResult = Fetched | NotModified | FetchError


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one fetch; the defaults suit platform feeds polled every few minutes."""

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 60.0  # also bounds a server that trickles bytes just under read_timeout
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 3
    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()  # e.g. an on-premises calendar server
    user_agent: str = "PMS-Webapp-iCal/1.0"


def fetch_policy(settings: Settings) -> FetchPolicy:
    networks = tuple(
        ipaddress.ip_network(cidr.strip(), strict=False)
        for cidr in settings.ical_allowed_networks.split(",")
        if cidr.strip()
    )
    return FetchPolicy(
        allow_private=settings.ical_allow_private,
        allowed_networks=networks,
        max_bytes=settings.ical_max_feed_bytes,
        total_timeout=settings.ical_fetch_timeout_seconds,
    )


async def blocked_address(
    url: str, policy: FetchPolicy, resolver: Resolver | None = None
) -> str | None:
    """Why ``url``'s host may not be fetched (it is or resolves to a private, loopback or other
    non-public address the policy does not allow), else None. A host that does not resolve
    now is not refused here: every fetch checks its addresses again anyway."""
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, UnicodeError):
        return None  # check_url says what is wrong with it
    if _check_scheme(target, None) is not None:
        return None
    found = await _checked_addresses(target, policy, resolver or _system_resolver)
    if isinstance(found, FetchError) and found.kind == "blocked_address":
        return found.detail
    return None


async def fetch_feed(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    policy: FetchPolicy | None = None,
    resolver: Resolver | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> FetchResult:
    """GET a feed with the previous validators; never raises for network or server trouble.

    ``resolver`` maps (host, port) to addresses (default: the system's, off the loop);
    ``ssl_context`` replaces the default trust store (e.g. an on-premises CA).
    """
    policy = policy or FetchPolicy()
    try:
        async with asyncio.timeout(policy.total_timeout):
            result = await _fetch(
                url,
                etag,
                last_modified,
                policy,
                resolver or _system_resolver,
                ssl_context or _SSL_CONTEXT,
            )
    except TimeoutError:
        result = FetchError("timeout", f"no complete answer within {policy.total_timeout:g}s")
    log.info(
        "ical.fetch",
        feed=redact_url(url),
        outcome=type(result).__name__,
        kind=result.kind if isinstance(result, FetchError) else None,
        status=result.status if isinstance(result, FetchError) else None,
        size=len(result.body) if isinstance(result, Fetched) else None,
    )
    return result


def redact_url(url: str) -> str:
    """``scheme://host[:port]/…#<hash>``: tells feeds apart in logs without revealing the path."""
    digest = hashlib.sha256(url.encode("utf-8", "replace")).hexdigest()[:12]
    try:
        parsed = httpx.URL(url)
        origin = f"{parsed.scheme}://{parsed.netloc.decode('ascii')}"
    except (httpx.InvalidURL, UnicodeError):
        origin = "invalid-url:"
    return f"{origin}/…#{digest}"


def is_public_address(address: IPAddress) -> bool:
    """Globally routable unicast; IPv6 forms that embed an IPv4 address are judged by it."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_public_address(embedded)
        if address.teredo is not None:
            return False
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified
    )


async def _fetch(
    url: str,
    etag: str | None,
    last_modified: str | None,
    policy: FetchPolicy,
    resolver: Resolver,
    ssl_context: ssl.SSLContext,
) -> FetchResult:
    headers = {"User-Agent": policy.user_agent, "Accept": "text/calendar, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    timeout = httpx.Timeout(
        connect=policy.connect_timeout,
        read=policy.read_timeout,
        write=policy.read_timeout,
        pool=policy.connect_timeout,
    )
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, UnicodeError):
        return FetchError("bad_scheme", "not a valid URL")
    async with httpx.AsyncClient(
        timeout=timeout, verify=ssl_context, trust_env=False, follow_redirects=False
    ) as client:
        previous_scheme: str | None = None
        for _ in range(policy.max_redirects + 1):
            problem = _check_scheme(target, previous_scheme)
            if problem is not None:
                return problem
            addresses = await _checked_addresses(target, policy, resolver)
            if isinstance(addresses, FetchError):
                return addresses
            outcome = await _request(client, target, addresses, headers, policy)
            if not isinstance(outcome, httpx.URL):
                if isinstance(outcome, NotModified):
                    return NotModified(outcome.etag or etag, outcome.last_modified or last_modified)
                return outcome
            previous_scheme, target = target.scheme, outcome
        return FetchError("too_many_redirects", f"more than {policy.max_redirects} redirects")


def _check_scheme(target: httpx.URL, previous: str | None) -> FetchError | None:
    if target.scheme not in _DEFAULT_PORTS or not target.host:
        return FetchError("bad_scheme", f"only http(s) URLs with a host, not {target.scheme!r}")
    if previous == "https" and target.scheme == "http":
        # A downgrade would send the redirect target (often another secret URL) in clear text.
        return FetchError("bad_scheme", "redirect from https to http refused")
    return None


async def _checked_addresses(
    target: httpx.URL, policy: FetchPolicy, resolver: Resolver
) -> list[str] | FetchError:
    host = target.raw_host.decode("ascii")
    port = target.port or _DEFAULT_PORTS[target.scheme]
    try:
        async with asyncio.timeout(policy.connect_timeout):
            addresses = await resolver(host, port)
    except TimeoutError:
        return FetchError("timeout", "name resolution timed out")
    except OSError as exc:
        return FetchError("network", f"cannot resolve host ({type(exc).__name__})")
    if not addresses:
        return FetchError("network", "host has no address")
    for raw in addresses:
        try:
            address = ipaddress.ip_address(raw.split("%", 1)[0])
        except ValueError:
            return FetchError("network", "resolver returned a malformed address")
        if not _allowed(address, policy):
            # One bad address is enough: a host that mixes public and internal answers is
            # exactly what a rebinding attack looks like.
            return FetchError("blocked_address", f"{host} resolves to a non-public address")
    return addresses


def _allowed(address: IPAddress, policy: FetchPolicy) -> bool:
    if policy.allow_private or is_public_address(address):
        return True
    return any(address in network for network in policy.allowed_networks)


async def _request(
    client: httpx.AsyncClient,
    target: httpx.URL,
    addresses: list[str],
    headers: dict[str, str],
    policy: FetchPolicy,
) -> FetchResult | httpx.URL:
    """One hop against the checked addresses in order; returns the next URL on a redirect."""
    host_header = target.netloc.decode("ascii")
    extensions = (
        {"sni_hostname": target.raw_host.decode("ascii")} if target.scheme == "https" else {}
    )
    last_error: FetchError | None = None
    for address in addresses:
        # With its zone, if any (``fe80::1%eth0``): a link-local address names no host without
        # the interface it is on.
        pinned = target.copy_with(host=address)
        try:
            async with client.stream(
                "GET", pinned, headers={**headers, "Host": host_header}, extensions=extensions
            ) as response:
                return await _read(response, target, policy)
        except httpx.TimeoutException as exc:
            return FetchError("timeout", f"{type(exc).__name__}")
        except httpx.ConnectError as exc:
            last_error = FetchError("network", f"cannot connect ({_safe_reason(exc)})")
        except (httpx.HTTPError, ssl.SSLError) as exc:
            return FetchError("network", f"{type(exc).__name__} ({_safe_reason(exc)})")
    assert last_error is not None  # addresses is never empty here
    return last_error


async def _read(
    response: httpx.Response, target: httpx.URL, policy: FetchPolicy
) -> FetchResult | httpx.URL:
    status = response.status_code
    if status in _REDIRECTS:
        location = response.headers.get("location")
        if not location:
            return FetchError("http_status", f"HTTP {status} without Location", status)
        try:
            return target.join(location)
        except (httpx.InvalidURL, UnicodeError):
            return FetchError("http_status", f"HTTP {status} with an invalid Location", status)
    if status == 304:
        return NotModified(response.headers.get("etag"), response.headers.get("last-modified"))
    if status != 200:
        return FetchError("http_status", f"HTTP {status}", status)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        return FetchError("too_large", f"declared {declared} bytes > {policy.max_bytes}")
    body = bytearray()
    # aiter_bytes yields decompressed data, so the limit also stops a gzip bomb.
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > policy.max_bytes:
            return FetchError("too_large", f"body exceeds {policy.max_bytes} bytes")
    return Fetched(bytes(body), response.headers.get("etag"), response.headers.get("last-modified"))


def _safe_reason(exc: BaseException) -> str:
    """The OS-level reason of a transport error, never the request (its URL is the secret)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
        cause = cause.__cause__ or cause.__context__
    return type(exc).__name__


async def _system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in seen:
            seen.append(address)
    return seen
