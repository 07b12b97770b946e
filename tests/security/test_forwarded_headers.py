"""Finding 7: X-Forwarded-For names the client only when it comes from a proxy listed in
FORWARDED_ALLOW_IPS (default: none). Otherwise rotating the header would bypass every per-IP
limit. Served by uvicorn with the options `pms api` uses, over real HTTP on loopback."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest
import uvicorn

from pms.cli import api_server_options
from pms.embedded.process import free_port
from pms.settings import Settings
from tests.services import wait_for


async def _client_address(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The address and scheme every endpoint (and per-IP limit) would see."""
    assert scope["type"] == "http"
    body = json.dumps({"ip": scope["client"][0], "scheme": scope["scheme"]}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def _seen(trusted: str) -> dict[str, str]:
    options = api_server_options(Settings(forwarded_allow_ips=trusted))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(_client_address, host="127.0.0.1", port=port, lifespan="off", **options)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, 20, "uvicorn to start")
        r = httpx.get(
            f"http://127.0.0.1:{port}/",
            headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        )
    finally:
        server.should_exit = True
        thread.join(20)
    seen: dict[str, str] = r.json()
    return seen


@pytest.mark.parametrize("trusted", ["", "10.0.0.7", "192.168.0.0/16"])
def test_forwarded_headers_from_anyone_else_are_ignored(trusted: str) -> None:
    assert _seen(trusted) == {"ip": "127.0.0.1", "scheme": "http"}


@pytest.mark.parametrize("trusted", ["127.0.0.1", "127.0.0.0/8,10.0.0.7"])
def test_forwarded_headers_from_a_listed_proxy_name_the_client(trusted: str) -> None:
    assert _seen(trusted) == {"ip": "203.0.113.9", "scheme": "https"}


def test_the_default_trusts_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    options = api_server_options(Settings())
    assert options["proxy_headers"] is False
