"""A feed server on loopback whose answers each test sets, and settings that allow fetching it."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.services import wait_for

Handler = Callable[[Request], Awaitable[Response]]
MB = 1024 * 1024


@dataclass
class FeedServer:
    base: str
    handlers: dict[str, Handler] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def serve(self, name: str, body: bytes, *, etag: str | None = None) -> None:
        """A calendar body, answering 304 to its own ETag."""

        async def handler(request: Request) -> Response:
            if etag is not None and request.headers.get("if-none-match") == etag:
                return Response(status_code=304, headers={"ETag": etag})
            headers = {"ETag": etag} if etag else {}
            return Response(body, media_type="text/calendar", headers=headers)

        self.handlers[name] = handler

    def status(self, name: str, code: int) -> None:
        async def handler(request: Request) -> Response:
            return Response(b"Internal Server Error", status_code=code)

        self.handlers[name] = handler

    def slow(self, name: str, seconds: float) -> None:
        async def handler(request: Request) -> Response:
            await asyncio.sleep(seconds)
            return Response(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", media_type="text/calendar")

        self.handlers[name] = handler

    def huge(self, name: str, size: int = 50 * MB) -> None:
        async def handler(request: Request) -> Response:
            async def body() -> AsyncIterator[bytes]:
                chunk = b"X" * (64 * 1024)
                for _ in range(size // len(chunk)):
                    if await request.is_disconnected():
                        return
                    yield chunk

            return StreamingResponse(body(), media_type="text/calendar")

        self.handlers[name] = handler

    def redirect(self, name: str, location: str) -> None:
        async def handler(request: Request) -> Response:
            return RedirectResponse(location, status_code=302)

        self.handlers[name] = handler


def _app(server: FeedServer) -> Starlette:
    async def dispatch(request: Request) -> Response:
        name = request.path_params["name"]
        server.requests.append((name, dict(request.headers)))
        handler = server.handlers.get(name)
        if handler is None:
            return Response(status_code=404)
        return await handler(request)

    return Starlette(routes=[Route("/{name:path}", dispatch)])


@pytest.fixture(scope="module")
def feed_server_module() -> Iterator[FeedServer]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = FeedServer(base=f"http://127.0.0.1:{port}")
    config = uvicorn.Config(
        _app(server), log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: uv.started, timeout=10, what="feed server start")
    yield server
    uv.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def feed_server(feed_server_module: FeedServer) -> FeedServer:
    feed_server_module.handlers.clear()
    feed_server_module.requests.clear()
    return feed_server_module


@pytest.fixture(autouse=True)
def _ical_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the ``settings`` fixture reads the environment: loopback feeds are allowed, and a
    hung feed gives up quickly."""
    monkeypatch.setenv("ICAL_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("ICAL_FETCH_TIMEOUT_SECONDS", "2")
