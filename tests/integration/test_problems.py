"""Every error is an RFC 9457 problem document; a 500 never leaks exception text."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field


class _Thing(BaseModel):
    name: str = Field(min_length=1)
    nights: int = Field(ge=1)


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    @app.post("/_test/things")
    async def create_thing(thing: _Thing) -> dict[str, Any]:
        return thing.model_dump()

    @app.get("/_test/boom")
    async def boom() -> None:
        raise RuntimeError("database password is hunter2")

    return app


async def test_unknown_path_is_a_404_problem(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 404
    assert body["title"] == "Not Found"
    assert body["type"] == "about:blank"
    assert body["request_id"] == r.headers["x-request-id"]


async def test_validation_errors_are_listed_per_field(client: httpx.AsyncClient) -> None:
    r = await client.post("/_test/things", json={"name": "", "nights": 0})
    assert r.status_code == 422
    body = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert body["type"] == "/problems/validation"
    fields = {e["field"]: e for e in body["errors"]}
    assert set(fields) == {"name", "nights"}
    assert fields["nights"]["in"] == "body"
    assert "greater than or equal to 1" in fields["nights"]["message"]


async def test_malformed_json_is_a_422_not_a_500(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/_test/things", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["type"] == "/problems/validation"


async def test_unhandled_exception_is_a_500_with_request_id_and_no_exception_text(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/_test/boom", headers={"X-Request-Id": "req-500-test"})
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["request_id"] == "req-500-test"
    assert "hunter2" not in r.text
    assert "RuntimeError" not in r.text


async def test_trailing_slash_is_not_redirected(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/live/")
    assert r.status_code == 404


async def test_nul_in_the_query_is_a_422_with_request_id(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/properties?q=a%00b", headers={"X-Request-Id": "nul-1"})
    assert r.status_code == 422
    assert r.headers["x-request-id"] == "nul-1"
    assert r.json()["errors"][0]["message"] == "NUL not allowed"
