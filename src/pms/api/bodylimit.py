"""Request-body size limits, enforced while the body arrives, before anything parses it."""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pms.api.problems import problem
from pms.core import photos

MAX_JSON_BYTES = 1024 * 1024
# A photo plus the multipart envelope around it (boundaries, part headers, the caption field).
MAX_UPLOAD_BYTES = photos.MAX_BYTES + 64 * 1024


class BodyTooLarge(HTTPException):
    """Raised from ``receive``. FastAPI passes its own HTTPException through body parsing, so
    the app's handler answers the 413 as problem+json, wherever the body was being read."""

    def __init__(self, what: str) -> None:
        super().__init__(413, f"The request body is larger than {what}.")


def limit_for(scope: Scope) -> tuple[int, str]:
    """The limit for this request's body, and how to name it in the 413."""
    for name, value in scope["headers"]:
        if name == b"content-type" and value.lower().startswith(b"multipart/form-data"):
            return MAX_UPLOAD_BYTES, f"the upload limit ({photos.MAX_BYTES // 2**20} MB a photo)"
    return MAX_JSON_BYTES, f"{MAX_JSON_BYTES // 2**20} MB"


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    """Counts the body's bytes as they are received and stops at the limit (a declared
    Content-Length above it stops before the first byte is read). It answers nothing itself
    but the 413 of a body it refused, when nothing inside has answered yet."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, what = limit_for(scope)
        declared = _declared_length(scope)
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            if declared is not None and declared > limit:
                raise BodyTooLarge(what)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(what)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge as exc:
            # Read in front of routing (no exception handler there): answered here instead.
            if started:
                raise
            await problem(413, detail=str(exc.detail))(scope, receive, send)
