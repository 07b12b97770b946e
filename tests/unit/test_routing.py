"""Domains behind the start of their paths (api/routing.py): every request reaches the route it
reached with the routers included directly (the same route, or none), and the OpenAPI
document is the same."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.types import Message, Receive, Scope, Send

from pms.api import app as app_module
from pms.api.routing import PathGroup, include_grouped, literal_start

# A value each path converter accepts (an int or a UUID also passes as a plain string).
_SAMPLE = {"uuid": "0b6f2f0e-7c53-4a55-9d39-5b8e0b0c1f00", "int": "7", "path": "a/b"}
_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")


def _sample(path: str) -> str:
    return _PARAM.sub(lambda m: _SAMPLE.get(m.group(2) or "", f"x{m.group(1)}"), path)


def _ungrouped() -> FastAPI:
    app = FastAPI(redirect_slashes=False)
    app.router.redirect_slashes = False
    for router, prefix in app_module.routers():
        app.include_router(router, prefix=prefix)
    return app


def _grouped() -> FastAPI:
    app = FastAPI(redirect_slashes=False)
    app.router.redirect_slashes = False
    for router, prefix in app_module.routers():
        include_grouped(app, router, prefix)
    return app


def _requests() -> list[tuple[str, str]]:
    """Every route's methods on a path it matches, the other methods on it, and near misses."""
    out: list[tuple[str, str]] = []
    for router, prefix in app_module.routers():
        for r in router.routes:
            assert isinstance(r, APIRoute)
            path = prefix + _sample(r.path)
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                out.append((method, path))
            out += [("GET", path + "/"), ("GET", path + "/more"), ("GET", path[:-1])]
    return [*out, ("GET", "/api/v1"), ("GET", "/api/v1/"), ("GET", "/"), ("GET", "/nowhere")]


async def _route_of(app: FastAPI, method: str, path: str) -> tuple[Any, int]:
    """The route FastAPI's routing selects (its handler replaced by a recorder), and the status
    answered (the recorder's 299, or 404 when no route is selected)."""
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app.router(scope, receive, send)
    return scope.get("route"), statuses[0] if statuses else 0


def test_every_request_reaches_the_route_it_reached_without_groups(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def recorded(self: APIRoute, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    monkeypatch.setattr(APIRoute, "handle", recorded)
    grouped, ungrouped = _grouped(), _ungrouped()
    requests = _requests()

    async def walk() -> list[tuple[tuple[Any, int], tuple[Any, int]]]:
        return [
            (await _route_of(ungrouped, m, p), await _route_of(grouped, m, p)) for m, p in requests
        ]

    # Thousands of requests without I/O: run in a loop of their own (no stall check applies).
    results = asyncio.run(walk())
    statuses: list[int] = []
    for (method, path), (want, got) in zip(requests, results, strict=True):
        assert got == want, (method, path)
        statuses.append(want[1])
    # The samples reach routes (299: the recorder, also for a route whose method differs,
    # which answers the 405) and miss them (404).
    assert statuses.count(299) > 300
    assert statuses.count(404) > 100


def test_a_group_refuses_paths_outside_its_literal_starts_without_matching() -> None:
    from pms.api import channels

    group = PathGroup(channels.webhook_router, prefix="/api/v1")
    assert group.starts == ("/api/v1/channels/",)
    scope: Scope = {"type": "http", "path": "/api/v1/bookings", "root_path": "", "state": {}}
    match, child = group.matches(scope)
    assert (match.name, child) == ("NONE", {})


def test_literal_start_is_the_path_before_its_first_parameter() -> None:
    from pms.api import channels

    starts = {literal_start(r) for r in channels.webhook_router.routes}
    assert starts == {"/channels/"}


def test_the_openapi_document_is_the_one_of_the_ungrouped_routers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The grouped app's document equals one generated from the routers included directly
    (same paths in the same order, same operation ids, tags and responses)."""
    from fastapi.openapi.utils import get_openapi

    monkeypatch.setenv("ENVIRONMENT", "test")
    app = app_module.create_app()
    twin = _ungrouped()
    doc = get_openapi(title="t", version="1", routes=app.routes)
    twin_doc = get_openapi(title="t", version="1", routes=twin.routes)
    assert list(doc["paths"]) == list(twin_doc["paths"])
    assert doc == twin_doc
