"""A JSON body sent without `Content-Type` is a 422 on every endpoint that takes JSON, signed in
or not, with a token the API has already seen or a new one: every request takes one path."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from tests.factories import full_agency

_JSON = "application/json"


def _json_operations(spec: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("post", "put", "patch"):
                continue
            content = op.get("requestBody", {}).get("content", {})
            if _JSON in content:
                found.append((method.upper(), path))
    return found


def _fill(path: str, slug: str) -> str:
    values = {"agency": slug, "token": "not-a-token", "action": "confirm", "hold_token": "x"}
    out = path
    while "{" in out:
        start = out.index("{")
        name = out[start + 1 : out.index("}", start)]
        out = out.replace("{" + name + "}", values.get(name, str(uuid.uuid4())), 1)
    return out


async def test_a_body_without_content_type_is_422_on_every_json_endpoint(
    client: httpx.AsyncClient,
) -> None:
    a = await full_agency(client, "No Content Type")
    h = a.auth()
    slug = (await client.get("/api/v1/agency", headers=h)).json()["slug"]
    spec = (await client.get("/openapi.json")).json()
    operations = _json_operations(spec)
    assert len(operations) > 30  # the walk covers the API, not a handful of routes
    body = json.dumps({"name": "x", "property_id": a.property_id}).encode()
    answers = {}
    for method, path in operations:
        url = _fill(path, slug)
        headers = {} if path.startswith("/api/v1/public/") else dict(h)
        r = await client.request(method, url, content=body, headers=headers)
        answers[f"{method} {path}"] = r.status_code
    assert {op: code for op, code in answers.items() if code != 422} == {}


async def test_a_booking_without_content_type_is_refused_with_a_known_or_a_new_token(
    client: httpx.AsyncClient,
) -> None:
    a = await full_agency(client, "Known Token")
    booking = {
        "property_id": a.property_id,
        "check_in": "2031-03-01",
        "check_out": "2031-03-04",
        "adults": 2,
        "guest": {"email": "k@example.com", "last_name": "Known"},
    }
    raw = json.dumps(booking).encode()
    # The token is used first (known to the process), then the same body without a type.
    before = await client.get("/api/v1/bookings", headers=a.auth())
    assert before.status_code == 200
    for _ in range(3):
        r = await client.post("/api/v1/bookings", content=raw, headers=a.auth())
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    listed = await client.get("/api/v1/bookings", headers=a.auth())
    assert listed.json()["total"] == before.json()["total"]
    typed = await client.post(
        "/api/v1/bookings", content=raw, headers={**a.auth(), "Content-Type": _JSON}
    )
    assert typed.status_code == 201, typed.text
