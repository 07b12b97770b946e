"""CORS for the public booking engine: each agency allows only its own configured origins."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pms.db import get_engine
from pms.direct import links
from pms.models.agency import Agency
from pms.settings import get_settings

_PREFIX = "/api/v1/public/"
_TTL = 60.0
_ALLOW_HEADERS = b"content-type, idempotency-key, x-request-id"


class PublicCorsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # A short-lived cache of derived data (each replica may hold its own copy).
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    async def _origins(
        self, key: str, slug: str | None, agency_id: uuid.UUID | None
    ) -> frozenset[str]:
        hit = self._cache.get(key)
        if hit and time.monotonic() - hit[0] < _TTL:
            return hit[1]
        stmt = select(Agency.public_origins)
        stmt = stmt.where(Agency.slug == slug) if slug else stmt.where(Agency.id == agency_id)
        async with get_engine().connect() as conn:
            found = (await conn.execute(stmt)).scalar_one_or_none()
        origins = frozenset(found or [])
        self._cache[key] = (time.monotonic(), origins)
        return origins

    async def _allowed(self, path: str, origin: str) -> bool:
        rest = path[len(_PREFIX) :].split("/")
        if rest[0] == "bookings" and len(rest) > 1:
            try:
                agency_id, _ = links.verify(get_settings(), rest[1])
            except Exception:  # noqa: BLE001 - an invalid link simply gets no CORS grant
                return False
            return origin in await self._origins(f"id:{agency_id}", None, agency_id)
        return origin in await self._origins(f"slug:{rest[0]}", rest[0], None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(_PREFIX):
            await self.app(scope, receive, send)
            return
        origin = dict(scope["headers"]).get(b"origin", b"").decode("latin-1")
        allowed = bool(origin) and await self._allowed(scope["path"], origin)
        if scope["method"] == "OPTIONS" and origin:
            headers = [(b"vary", b"Origin")]
            if allowed:
                headers += [
                    (b"access-control-allow-origin", origin.encode()),
                    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                    (b"access-control-allow-headers", _ALLOW_HEADERS),
                    (b"access-control-max-age", b"600"),
                ]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"vary", b"Origin")]
                if allowed:
                    extra.append((b"access-control-allow-origin", origin.encode()))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_cors)
