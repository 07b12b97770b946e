"""``POST /api/v1/bookings`` in front of routing.

Booking creation is the write that arrives in bursts (a channel import, an integration, a
busy front desk). Here, before FastAPI routes the request and solves its dependencies, a
request with a known token and a valid JSON body is handed to ``bookings.from_front``, which
writes it together with the other creates of the same actor in flight
(``pms.core.booking_batches``). Everything else, and every booking that could not be written
that way, goes on to the endpoint with its body unchanged: the endpoint's own dependencies,
validation and ``bookings.create`` then answer, errors included.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pms.api import bookings
from pms.api.cachefront import RouteName, send_json

_PATH = "/api/v1/bookings"
_ROUTE = RouteName(_PATH)
# Larger bodies are left to the endpoint (a booking is well under 4 KiB).
_MAX_BODY = 64 * 1024


def _json_body(scope: Scope) -> bool:
    """Whether the endpoint reads the body as JSON: a JSON content type (FastAPI's strict
    content type: without one, the body is not JSON to it), and not too large."""
    length = 0
    content_type = None
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value.split(b";", 1)[0].strip().lower()
        elif name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return False
    if length > _MAX_BODY:
        return False
    return (
        content_type is None
        or content_type == b"application/json"
        or (content_type.startswith(b"application/") and content_type.endswith(b"+json"))
    )


class BookingFrontMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == _PATH
            and _json_body(scope)
        ):
            await self.app(scope, receive, send)
            return
        chunks = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > _MAX_BODY or not message.get("more_body", False):
                break
        body = b"".join(chunks)
        more = size > _MAX_BODY and message.get("more_body", False)
        answer = None if more else await bookings.from_front(scope, body)
        if answer is not None:
            await send_json(scope, send, _ROUTE, 201, answer)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": more}

        await self.app(scope, replay, send)
