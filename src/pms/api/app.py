"""The FastAPI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from pms import __version__
from pms.api import (
    agency,
    alerts,
    audit,
    auth,
    blocks,
    bookings,
    calendar,
    channels,
    events,
    google,
    guests,
    health,
    ical,
    idempotency,
    members,
    openapi,
    payments,
    photos,
    problems,
    properties,
    public,
    quotes,
    rates,
    vrbo,
    webhooks,
)
from pms.api.bodylimit import BodyLimitMiddleware
from pms.api.cors import PublicCorsMiddleware
from pms.api.middleware import RequestContextMiddleware
from pms.api.routing import include_grouped
from pms.db import dispose_engine, open_pool
from pms.logs import configure_logging
from pms.redis_client import close_redis
from pms.settings import get_settings

DESCRIPTION = """
PMS-Webapp: property management for vacation rentals.

Errors are RFC 9457 `application/problem+json` documents; every response carries `X-Request-Id`.
"""


def _freeze_startup_objects() -> None:
    """Everything built by the time the app serves (the modules, the routes and their schemas,
    the ORM's mappers, the compiled statements) lives as long as the process. Frozen, Python's
    collector stops walking it on every full collection: about 250,000 objects, which took
    170-290 ms per full collection, under load once every 500 to 1,000 requests, with every
    request in flight stalled meanwhile. When collections run is unchanged (Python's own
    thresholds); only objects that exist now are exempt, once per process."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    await open_pool()
    _freeze_startup_objects()
    yield
    await dispose_engine()
    await close_redis()


def routers() -> list[tuple[APIRouter, str]]:
    """The domains' routers in the order they are matched, each with its path prefix."""
    # By domain: the team's core records, then rates and quotes, then what runs beside them.
    api = [
        auth.router,
        agency.router,
        members.router,
        properties.router,
        photos.router,
        guests.router,
        bookings.router,
        payments.router,
        blocks.router,
        calendar.router,
        rates.router,
        quotes.router,
        ical.router,
        alerts.router,
        channels.router,
        channels.webhook_router,
        vrbo.router,
        google.router,
        audit.router,
        events.router,
        public.router,
        google.landing,
        webhooks.router,
    ]
    return [(health.router, ""), *((r, "/api/v1") for r in api), (ical.public, "")]


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json, cache=settings.environment != "test")
    app = FastAPI(
        title="PMS-Webapp",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan,
        telemetry={
            "tracing": settings.opentelemetry,
            "metrics": settings.opentelemetry,
            "logs": settings.opentelemetry,
        },
        # Paths are exact: a redirect to the trailing-slash form goes to http:// behind a TLS proxy.
        redirect_slashes=False,
    )
    app.router.redirect_slashes = False
    problems.install(app)
    idempotency.install(app)
    openapi.install(app)
    for router, prefix in routers():
        # Each domain behind the start of its paths: a request is matched only against the
        # routes of the domains it can belong to (see api/routing.py).
        include_grouped(app, router, prefix)
    # Build the OpenAPI document now: generating it lazily stalls the event loop of the first
    # request for /openapi.json by a few hundred milliseconds.
    app.openapi()
    app.add_middleware(PublicCorsMiddleware)
    # Outside everything that reads a body, inside the request id (a 413 carries one).
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(RequestContextMiddleware)
    return app
