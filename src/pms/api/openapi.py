"""The published OpenAPI document, completed so that clients (and schemathesis) can rely on it:
every operation lists the problem responses it can give, each as ``application/problem+json``
with the one ``Problem`` schema, 429 and 503 with their ``Retry-After`` header, and times of
day declared as the strings they are returned as."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from pms.api.problems import PROBLEM_JSON

PROBLEM = "Problem"
_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem document.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "e.g. /problems/validation"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "One entry per invalid field or broken rule.",
            "items": {"type": "object"},
        },
    },
    "additionalProperties": True,
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
_DEFAULT_DESCRIPTIONS = {
    "400": "Bad request (e.g. several agencies and no X-Agency-Id)",
    "401": "Missing, invalid, expired or revoked credentials",
    "403": "Your role may not do this",
    "404": "Not found (or another agency's)",
    "409": "Conflict with the current state (see `conflict_type`)",
    "413": "Request body too large",
    "422": "Invalid input: `errors` names each field or rule",
    "429": "Too many requests (see Retry-After)",
    "503": "A dependency (database, Redis) is unavailable; nothing was changed (see Retry-After)",
}
_WRITES = {"post", "put", "patch", "delete"}
# The time of day as returned ("15:00:00"); JSON Schema's "time" format would demand an offset.
_TIME_OF_DAY = {
    "type": "string",
    "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$",
    "examples": ["15:00:00"],
}


def _statuses(path: str, method: str, op: dict[str, Any]) -> set[str]:
    """The problem statuses an operation can answer with."""
    statuses = {"422", "503"}
    if op.get("security"):
        statuses |= {"400", "401", "403"}
    # A path parameter names an object; so may a signed-in caller's body or query (a
    # property_id in a new block): either may be missing, or another agency's.
    if "{" in path or op.get("security"):
        statuses.add("404")
    if method in _WRITES:
        statuses.add("409")
    if "requestBody" in op:
        statuses.add("413")
    if path.startswith(("/api/v1/public/", "/api/v1/auth/")):
        statuses.add("429")
    return statuses


def _complete(op: dict[str, Any], statuses: set[str]) -> None:
    responses: dict[str, Any] = op.setdefault("responses", {})
    for status in sorted(statuses | {s for s in responses if s[0] in "45"}):
        response = responses.setdefault(status, {})
        if status == "422" and response.get("description") == "Validation Error":
            response["description"] = _DEFAULT_DESCRIPTIONS["422"]
        response.setdefault("description", _DEFAULT_DESCRIPTIONS.get(status, "Problem"))
        response["content"] = {
            PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{PROBLEM}"}}
        }
        if status in ("429", "503"):
            response["headers"] = {**response.get("headers", {}), **_RETRY_AFTER}


def _times_as_returned(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "time":
            del node["format"]
            node.update(_TIME_OF_DAY)
        for value in node.values():
            _times_as_returned(value)
    elif isinstance(node, list):
        for value in node:
            _times_as_returned(value)


def document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is not None:
        return app.openapi_schema
    spec = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
    )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas[PROBLEM] = _PROBLEM_SCHEMA
    # FastAPI's own 422 shape is not what we answer (a problem document is).
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for path, operations in spec.get("paths", {}).items():
        for method, op in operations.items():
            if isinstance(op, dict) and "responses" in op:
                _complete(op, _statuses(path, method, op))
    _times_as_returned(spec)
    app.openapi_schema = spec
    return spec


def install(app: FastAPI) -> None:
    app.openapi = lambda: document(app)  # type: ignore[method-assign]
