"""The sandbox served by uvicorn on a loopback port, and a webhook receiver the tests control."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pms.embedded.process import free_port
from tests.services import wait_for


@dataclass
class Served:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def serve(app: Any, *, factory: bool = False) -> Served:
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        factory=factory,
        log_config=None,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started or not thread.is_alive(), 20, "uvicorn to start")
    assert server.started, "uvicorn did not start"
    return Served(f"http://127.0.0.1:{port}", server, thread)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Served]:
    served = serve("pms.sandbox.app:create_app", factory=True)
    yield served
    served.stop()


@pytest.fixture
def sandbox(sandbox_server: Served) -> Iterator[httpx.Client]:
    """A client of a freshly reset sandbox."""
    with httpx.Client(base_url=sandbox_server.url, timeout=10) as client:
        client.post("/control/reset").raise_for_status()
        yield client


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A PMS stand-in: records every request; answers from ``statuses`` (then 200) or ``reply``."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    # callable(Received) -> Response (or an awaitable of one), for request/response protocols
    reply: Any = None

    def wait_for_count(self, count: int, timeout: float = 10) -> list[Received]:
        wait_for(lambda: len(self.received) >= count, timeout, f"{count} requests at the PMS")
        return self.received


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    async def handle(request: Request) -> Response:
        got = Received(request.url.path, dict(request.headers), await request.body())
        state.received.append(got)
        if state.reply is not None:
            response = state.reply(got)
            if inspect.isawaitable(response):
                response = await response
            assert isinstance(response, Response)
            return response
        status = state.statuses.pop(0) if state.statuses else 200
        return JSONResponse({"received": True}, status)

    app = Starlette(routes=[Route("/{path:path}", handle, methods=["GET", "POST"])])
    served = serve(app)
    state.url = served.url
    yield state
    served.stop()
