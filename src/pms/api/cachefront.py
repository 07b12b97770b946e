"""Cached answers served in front of routing.

A repeated calendar or search request whose answer is still current (``pms.api.readcache``)
is answered here, before FastAPI routes it, parses its query and solves its dependencies: the
cost is the Redis round trip that checks the generations (plus, for the public search, the one
that counts its rate limits). Everything else, and every request this layer cannot decide
from memory (unknown token or slug, no stored answer, Redis unavailable, a limit exceeded),
goes to the application unchanged, which then stores the answer for the next time.

The checks here are the endpoint's own, from the same modules (``calendar.from_cache``,
``public.search_from_cache``): the key is the raw query string the endpoint also keys by, so
only a query the endpoint already validated and answered can hit.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from pms.api import calendar, public


@dataclass(frozen=True, slots=True)
class RouteName:
    """What the access log and the metrics name the route by (``scope["route"].path``)."""

    path: str


_Lookup = Callable[[Scope, re.Match[str]], Awaitable[bytes | None]]
_FRONTED: list[tuple[re.Pattern[str], RouteName, _Lookup]] = [
    (re.compile(r"^/api/v1/calendar$"), RouteName("/api/v1/calendar"), calendar.from_cache),
    (
        re.compile(r"^/api/v1/public/([a-z0-9-]{1,80})/search$"),
        RouteName("/api/v1/public/{agency}/search"),
        public.search_from_cache,
    ),
]


async def send_json(scope: Scope, send: Send, route: RouteName, status: int, body: bytes) -> None:
    """Answer a request in front of routing: a JSON document, named in the access log and the
    metrics like the route that would have answered it."""
    scope["route"] = route
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class CacheFrontMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            for pattern, template, lookup in _FRONTED:
                match = pattern.match(scope["path"])
                if match is None:
                    continue
                scope.setdefault("state", {})
                body = await lookup(scope, match)
                if body is not None:
                    await send_json(scope, send, template, 200, body)
                    return
                break
        await self.app(scope, receive, send)
