"""Request id, access log and Prometheus metrics in one pure ASGI middleware."""

from __future__ import annotations

import logging
import time

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pms.api.problems import problem, unexpected
from pms.logs import clean_request_id, get_logger, new_request_id, request_id_var

REQUESTS = Counter(
    "pms_http_requests_total",
    "HTTP requests by route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "pms_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
_log = get_logger("pms.api.access")
# Asked before each access-log line: below the level, structlog would drop the line by raising
# and catching an exception, on every request.
_ACCESS = logging.getLogger("pms.api.access")
_QUIET = {"/metrics", "/health/live", "/health/ready"}


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for k, v in scope["headers"]:
            if k == b"x-request-id":
                incoming = clean_request_id(v.decode("latin-1"))
                break
        rid = incoming or new_request_id()
        token = request_id_var.set(rid)
        structlog.contextvars.clear_contextvars()
        status = 500
        started = time.perf_counter()

        started_response = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                started_response = True
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", ""):
                # PostgreSQL text cannot hold NUL: refuse it at the edge rather than fail later.
                await problem(
                    422,
                    title="Validation failed",
                    detail="The URL contains a NUL character.",
                    type_="/problems/validation",
                    errors=[{"field": "", "in": "query", "message": "NUL not allowed"}],
                )(scope, receive, send_wrapper)
                return
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            # Handled here, inside the request's context, so the 500 carries its request id.
            _log.exception("unhandled_exception", path=scope.get("path"), method=scope["method"])
            if started_response:
                raise
            response = unexpected(exc)
            await response(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            REQUESTS.labels(method, template, str(status)).inc()
            LATENCY.labels(method, template).observe(elapsed)
            if template not in _QUIET and _ACCESS.isEnabledFor(logging.INFO):
                _log.info(
                    "request",
                    method=method,
                    route=template,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )
            request_id_var.reset(token)
