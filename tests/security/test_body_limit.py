"""Finding 9: a request body is limited while it arrives, before anything parses it: 1 MB for
JSON (and anything not multipart), the photo limit for uploads; 413 problem+json."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from pms.api.bodylimit import MAX_JSON_BYTES, MAX_UPLOAD_BYTES
from pms.core import photos
from tests.factories import full_agency

CHUNK = 64 * 1024
PNG = b"\x89PNG\r\n\x1a\n"


class Body:
    """A body streamed in chunks, counting how much of it the server asked for."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"email": "x@example.com", "password": "'
        while self.sent < self.size:
            self.sent += CHUNK
            yield b"a" * CHUNK
        yield b'"}'


def _is_413(r: httpx.Response) -> None:
    assert r.status_code == 413, r.text[:300]
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "larger than 1 MB" in r.json()["detail"]
    assert r.headers["x-request-id"]


async def test_an_anonymous_30_mb_json_body_stops_after_1_mb(client: httpx.AsyncClient) -> None:
    body = Body(30 * 1024 * 1024)
    r = await client.post(
        "/api/v1/auth/signup",
        content=body,  # type: ignore[arg-type]
        headers={"content-type": "application/json"},
    )
    _is_413(r)
    assert body.sent <= MAX_JSON_BYTES + CHUNK


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    client: httpx.AsyncClient,
) -> None:
    body = Body(30 * 1024 * 1024)
    r = await client.post(
        "/api/v1/public/anything/holds",
        content=body,  # type: ignore[arg-type]
        headers={"content-type": "application/json", "content-length": str(30 * 1024 * 1024)},
    )
    _is_413(r)
    assert body.sent == 0


async def test_a_body_under_the_limit_is_parsed_as_usual(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/auth/signup",
        content=b'{"email": "x@example.com", "padding": "' + b"a" * (MAX_JSON_BYTES - 100) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422  # parsed and validated: no password, no agency name


async def test_a_photo_may_be_larger_than_1_mb_but_not_than_the_photo_limit(
    client: httpx.AsyncClient,
) -> None:
    agency = await full_agency(client)
    url = f"/api/v1/properties/{agency.property_id}/photos"
    two_mb = PNG + bytes(2 * 1024 * 1024)
    r = await client.post(
        url, files={"file": ("p.png", two_mb, "image/png")}, headers=agency.auth()
    )
    assert r.status_code == 201, r.text
    too_big = PNG + bytes(MAX_UPLOAD_BYTES)
    r = await client.post(
        url, files={"file": ("p.png", too_big, "image/png")}, headers=agency.auth()
    )
    assert r.status_code == 413, r.text[:300]
    assert f"{photos.MAX_BYTES // (1024 * 1024)} MB" in r.json()["detail"]


async def test_a_body_read_in_front_of_routing_is_limited_too(client: httpx.AsyncClient) -> None:
    """Idempotency and known-token booking creates read the body before routing."""
    agency = await full_agency(client)
    for attempt in range(2):  # the second time the process knows the token
        body = Body(3 * 1024 * 1024)
        r = await client.post(
            "/api/v1/bookings",
            content=body,  # type: ignore[arg-type]
            headers={
                **agency.auth(),
                "content-type": "application/json",
                "idempotency-key": f"big-{attempt}",
            },
        )
        _is_413(r)
        assert body.sent <= MAX_JSON_BYTES + CHUNK
