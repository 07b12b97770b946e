"""The FastAPI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

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
    guests,
    health,
    ical,
    members,
    photos,
    problems,
    properties,
    public,
    quotes,
    rates,
    system,
    webhooks,
)
from pms.api.bookingfront import BookingFrontMiddleware
from pms.api.cachefront import CacheFrontMiddleware
from pms.api.cors import PublicCorsMiddleware
from pms.api.idempotency import IdempotencyMiddleware
from pms.api.middleware import RequestContextMiddleware
from pms.db import dispose_engine
from pms.logs import configure_logging
from pms.redis_client import close_redis
from pms.settings import get_settings

DESCRIPTION = """
PMS-Webapp: property management for vacation rentals.

Errors are RFC 9457 `application/problem+json` documents; every response carries `X-Request-Id`.
"""


# The cyclic garbage collector's first generation is collected every GC_THRESHOLD container
# allocations (CPython's default: 700). A request that builds tens of thousands of short-lived
# objects (a search quoting 1,000 properties) then triggers hundreds of collections, and the
# older generations, which hold the whole app, get scanned often enough to cost about as much
# CPU as the request itself. Reference counting frees almost all of these objects anyway; the
# collector only has to find cycles, which it still does, just less often.
GC_THRESHOLD = (50_000, 20, 10)


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    gc.set_threshold(*GC_THRESHOLD)
    yield
    await dispose_engine()
    await close_redis()


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json, cache=settings.environment != "test")
    app = FastAPI(
        title="PMS-Webapp",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan,
        # Lesson 6: redirects to a trailing slash broke behind a proxy; paths are exact.
        redirect_slashes=False,
    )
    app.router.redirect_slashes = False
    problems.install(app)
    app.include_router(health.router)
    # Routes are matched one by one in this order (about 8 µs each), so the busiest come
    # first: the guests' booking engine, then the team's calendar and bookings.
    for router in (
        public.router,
        calendar.router,
        bookings.router,
        auth.router,
        agency.router,
        members.router,
        properties.router,
        photos.router,
        guests.router,
        blocks.router,
        rates.router,
        quotes.router,
        audit.router,
        events.router,
        ical.router,
        alerts.router,
        channels.router,
    ):
        app.include_router(router, prefix="/api/v1")
    app.include_router(system.router, prefix="/api/v1")
    app.include_router(webhooks.router, prefix="/api/v1")
    app.include_router(ical.public)
    # Build the OpenAPI document now: generating it lazily stalls the event loop of the first
    # request for /openapi.json by a few hundred milliseconds.
    app.openapi()
    app.add_middleware(CacheFrontMiddleware)
    app.add_middleware(BookingFrontMiddleware)
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(PublicCorsMiddleware)
    app.add_middleware(RequestContextMiddleware)
    return app
