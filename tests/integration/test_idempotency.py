"""Idempotency-Key on POSTs: replay, conflicting reuse, and failures left retryable."""

from __future__ import annotations

import asyncio

import httpx

from tests.factories import property_body, signup


async def test_a_replayed_post_returns_the_stored_response_and_creates_nothing_new(
    client: httpx.AsyncClient,
) -> None:
    _, token, _ = await signup(client)
    h = {"Authorization": f"Bearer {token}", "Idempotency-Key": "create-prop-1"}
    body = property_body()
    first = await client.post("/api/v1/properties", json=body, headers=h)
    again = await client.post("/api/v1/properties", json=body, headers=h)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    listed = await client.get("/api/v1/properties", headers={"Authorization": h["Authorization"]})
    assert listed.json()["total"] == 1


async def test_the_same_key_with_another_body_is_422(client: httpx.AsyncClient) -> None:
    _, token, _ = await signup(client)
    h = {"Authorization": f"Bearer {token}", "Idempotency-Key": "k"}
    await client.post("/api/v1/properties", json=property_body(), headers=h)
    r = await client.post("/api/v1/properties", json=property_body(), headers=h)
    assert r.status_code == 422
    assert r.json()["type"] == "/problems/idempotency-key-reused"


async def test_keys_are_scoped_to_the_caller(client: httpx.AsyncClient) -> None:
    _, token_a, _ = await signup(client)
    _, token_b, _ = await signup(client)
    body = property_body()
    ra = await client.post(
        "/api/v1/properties",
        json=body,
        headers={"Authorization": f"Bearer {token_a}", "Idempotency-Key": "shared"},
    )
    rb = await client.post(
        "/api/v1/properties",
        json=body,
        headers={"Authorization": f"Bearer {token_b}", "Idempotency-Key": "shared"},
    )
    assert ra.status_code == rb.status_code == 201
    assert ra.json()["id"] != rb.json()["id"]
    assert "idempotent-replayed" not in rb.headers


async def test_a_refused_request_leaves_no_key_so_its_corrected_retry_runs(
    client: httpx.AsyncClient,
) -> None:
    """Nothing was committed, so nothing is stored: the same key then carries the fixed body."""
    _, token, _ = await signup(client)
    h = {"Authorization": f"Bearer {token}", "Idempotency-Key": "bad"}
    r1 = await client.post("/api/v1/properties", json={"name": ""}, headers=h)
    r2 = await client.post("/api/v1/properties", json={"name": ""}, headers=h)
    assert r1.status_code == r2.status_code == 422
    assert "idempotent-replayed" not in r2.headers
    fixed = await client.post("/api/v1/properties", json=property_body(), headers=h)
    assert fixed.status_code == 201


async def test_concurrent_retries_with_one_key_create_once_and_all_get_the_answer(
    client: httpx.AsyncClient,
) -> None:
    _, token, _ = await signup(client)
    h = {"Authorization": f"Bearer {token}", "Idempotency-Key": "burst"}
    body = property_body()
    answers = await asyncio.gather(
        *(client.post("/api/v1/properties", json=body, headers=h) for _ in range(8))
    )
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum("idempotent-replayed" in r.headers for r in answers) == 7
    listed = await client.get("/api/v1/properties", headers={"Authorization": h["Authorization"]})
    assert listed.json()["total"] == 1


async def test_a_logged_out_token_cannot_replay_a_stored_response(
    client: httpx.AsyncClient,
) -> None:
    _, token, _ = await signup(client)
    h = {"Authorization": f"Bearer {token}", "Idempotency-Key": "after-logout"}
    body = property_body()
    assert (await client.post("/api/v1/properties", json=body, headers=h)).status_code == 201
    out = await client.post("/api/v1/auth/logout", headers={"Authorization": h["Authorization"]})
    assert out.status_code == 204
    again = await client.post("/api/v1/properties", json=body, headers=h)
    assert again.status_code == 401
    assert "idempotent-replayed" not in again.headers


async def test_an_invalid_key_is_a_422_naming_the_header(client: httpx.AsyncClient) -> None:
    _, token, _ = await signup(client)
    h = {"Authorization": f"Bearer {token}", "Idempotency-Key": "x" * 201}
    r = await client.post("/api/v1/properties", json=property_body(), headers=h)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_signup_without_login_is_idempotent(client: httpx.AsyncClient) -> None:
    body = {"email": "idem@example.com", "password": "long enough pw", "agency_name": "I"}
    h = {"Idempotency-Key": "signup-1"}
    r1 = await client.post("/api/v1/auth/signup", json=body, headers=h)
    r2 = await client.post("/api/v1/auth/signup", json=body, headers=h)
    assert r1.status_code == r2.status_code == 201
    assert r1.json()["agency_id"] == r2.json()["agency_id"]
