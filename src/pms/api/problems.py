"""RFC 9457 problem responses: every error the API returns has this one shape."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pms.core.errors import DomainError
from pms.db import rolled_back_by_another
from pms.logs import get_logger, request_id_var

PROBLEM_JSON = "application/problem+json"
_log = get_logger("pms.api.problems")


def problem(
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    type_: str = "about:blank",
    errors: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = list(errors)
    rid = request_id_var.get()
    if rid:
        body["request_id"] = rid
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        out.append(
            {
                "field": ".".join(loc[1:]) if len(loc) > 1 else ".".join(loc),
                "in": loc[0] if loc else "body",
                "message": err.get("msg", "invalid"),
                "type": err.get("type", "value_error"),
            }
        )
    return out


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(exc)
    fields = ", ".join(e["field"] or e["in"] for e in errors[:5])
    return problem(
        422,
        title="Validation failed",
        detail=f"The request has invalid fields: {fields}",
        type_="/problems/validation",
        errors=errors,
    )


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404 and detail == "Not Found":
        detail = "No resource at this path."
    return problem(exc.status_code, detail=detail, headers=getattr(exc, "headers", None))


async def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem(
        exc.status,
        title=exc.title,
        detail=exc.detail,
        type_=f"/problems/{exc.code}",
        errors=exc.errors,
        headers=exc.headers,
        **exc.extra,
    )


def internal_error() -> JSONResponse:
    """The 500 body: the exception text stays in our logs; the client gets the request id."""
    return problem(
        500,
        title="Internal Server Error",
        detail="An unexpected error occurred. Quote the request id when reporting it.",
        type_="/problems/internal",
    )


# Seconds a client should wait before retrying after a dependency failed.
DEPENDENCY_RETRY_AFTER = 2


def dependency_unavailable() -> JSONResponse:
    """Redis (rate limits, live events) failed or did not answer in time: the request was not
    carried out, and a retry after a moment may succeed. Never a 500, never a hang."""
    return problem(
        503,
        title="Dependency unavailable",
        detail="A service this request needs did not answer in time; nothing was changed. "
        "Retry after the time in Retry-After.",
        type_="/problems/dependency-unavailable",
        headers={"Retry-After": str(DEPENDENCY_RETRY_AFTER)},
    )


async def _redis(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RedisError)
    _log.warning("dependency_unavailable", dependency="redis", error=type(exc).__name__)
    return dependency_unavailable()


def unexpected(exc: Exception) -> JSONResponse:
    """The answer to an exception nothing handled: 503 when the database connection was lost
    under the request (e.g. the server restarted: the pool reconnects, a retry succeeds) or
    Redis failed, else the 500 of ``internal_error``."""
    if isinstance(exc, RedisError):
        return dependency_unavailable()
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return problem(
            503,
            title="Database unavailable",
            detail="The connection to the database was lost; nothing was saved. Retry.",
            type_="/problems/database-unavailable",
            headers={"Retry-After": "1"},
        )
    if rolled_back_by_another(exc):
        _log.warning(
            "transaction_rolled_back",
            sqlstate=getattr(getattr(exc, "orig", None), "sqlstate", None),
        )
        return problem(
            503,
            title="Concurrent change",
            detail="The request met a concurrent change to the same data and was rolled "
            "back; nothing was saved. Retry.",
            type_="/problems/concurrent-change",
            headers={"Retry-After": "1"},
        )
    return internal_error()


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RedisError, _redis)
