"""The published OpenAPI document is valid OpenAPI 3.1."""

from __future__ import annotations

import asyncio

import httpx
from openapi_spec_validator import validate
from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator


async def test_openapi_is_valid_3_1(client: httpx.AsyncClient) -> None:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    assert spec["openapi"].startswith("3.1")
    # Validation is CPU-heavy: off the event loop, like any blocking work.
    await asyncio.to_thread(validate, spec, cls=OpenAPIV31SpecValidator)


async def test_docs_page_is_served(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs")
    assert r.status_code == 200
    assert "swagger" in r.text.lower()
