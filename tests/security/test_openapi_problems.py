"""Finding 13: the OpenAPI document says what the API really answers. Every operation lists
its problem responses (400, 401, 403, 404, 409, 413, 422, 429, 503 as they apply), each as
``application/problem+json`` with the one Problem schema; 429 and 503 document Retry-After;
times of day are declared as the strings they are returned as. (That the answers conform to
the document, operation by operation, is schemathesis' part: tests/e2e/test_schema_fuzz.py.)"""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


async def _spec(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    spec: dict[str, Any] = r.json()
    return spec


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if isinstance(op, dict) and "responses" in op
    ]


async def test_every_problem_response_is_documented_as_problem_json(
    client: httpx.AsyncClient,
) -> None:
    spec = await _spec(client)
    assert "Problem" in spec["components"]["schemas"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    operations = _operations(spec)
    assert len(operations) > 60
    for path, method, op in operations:
        responses = op["responses"]
        where = f"{method.upper()} {path}"
        expected = {"422", "503"}
        if op.get("security"):
            expected |= {"400", "401", "403"}
        if "{" in path:
            expected.add("404")
        if method in ("post", "put", "patch", "delete"):
            expected.add("409")
        if "requestBody" in op:
            expected.add("413")
        if path.startswith(("/api/v1/public/", "/api/v1/auth/")):
            expected.add("429")
        assert expected <= set(responses), (where, sorted(expected - set(responses)))
        for status, response in responses.items():
            if status[0] not in "45":
                continue
            assert response["content"] == {"application/problem+json": {"schema": PROBLEM_REF}}, (
                where,
                status,
            )
            assert response["description"] != "Validation Error", where
            if status in ("429", "503"):
                assert "Retry-After" in response["headers"], (where, status)


async def test_a_real_problem_answer_matches_the_problem_schema(
    client: httpx.AsyncClient,
) -> None:
    spec = await _spec(client)
    schema = spec["components"]["schemas"]["Problem"]
    answers = [
        await client.get("/api/v1/properties"),  # 401
        await client.post("/api/v1/auth/login", json={"email": "x"}),  # 422
        await client.get("/api/v1/public/no-such-agency/properties"),  # 404
    ]
    for r in answers:
        assert r.headers["content-type"] == "application/problem+json", r.text
        jsonschema.validate(r.json(), schema)


async def test_times_of_day_are_declared_as_returned(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    text = str(spec)
    assert "'format': 'time'" not in text
    prop = spec["components"]["schemas"]["Property"]["properties"]["check_in_time"]
    assert prop["type"] == "string"
    jsonschema.validate("15:00:00", prop)
