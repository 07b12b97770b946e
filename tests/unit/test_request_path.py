"""One path per request: nothing in front of routing answers a request, and the shortcuts that
once did (a second implementation of the booking, calendar and search endpoints, and the
caches in front of them) are gone for good."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from pms.api.app import create_app
from pms.api.bodylimit import BodyLimitMiddleware
from pms.api.cors import PublicCorsMiddleware
from pms.api.middleware import RequestContextMiddleware

REMOVED = [
    "pms.api.bookingfront",
    "pms.api.cachefront",
    "pms.api.readcache",
    "pms.core.booking_batches",
    "pms.core.generations",
    "pms.core.lru",
    "pms.api.system",
]


@pytest.mark.parametrize("module", REMOVED)
def test_the_shortcut_modules_are_gone(module: str) -> None:
    assert importlib.util.find_spec(module) is None


def test_only_middleware_that_never_answers_for_an_endpoint_wraps_the_router(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Request id and access log, the public engine's CORS and the body limit: each passes a
    request on, or refuses it (a 413, a CORS preflight) before any endpoint logic."""
    monkeypatch.setenv("ENVIRONMENT", "test")
    app = create_app()
    assert {m.cls for m in app.user_middleware} == {
        RequestContextMiddleware,
        PublicCorsMiddleware,
        BodyLimitMiddleware,
    }


def test_bookings_are_created_by_one_function() -> None:
    """Every caller goes through ``core.bookings.create``; nothing writes bookings in bulk."""
    from pms.core import bookings

    assert not hasattr(bookings, "create_many")
    assert not hasattr(bookings, "from_front")


def test_every_route_but_those_the_platforms_call_takes_an_idempotency_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Routes are matched in the order of their domains, and every POST claims its
    Idempotency-Key; the platforms' webhooks are idempotent by their own message ids."""
    from fastapi.routing import APIRoute

    from pms.api.idempotency import IdempotentRoute

    monkeypatch.setenv("ENVIRONMENT", "test")
    app = create_app()

    def routes(items: list[Any]) -> list[Any]:
        out: list[Any] = []
        for r in items:
            nested = getattr(r, "original_router", None)  # an included router
            out += routes(nested.routes) if nested is not None else [r]
        return out

    plain = [
        r.path
        for r in routes(app.routes)
        if isinstance(r, APIRoute) and not isinstance(r, IdempotentRoute)
    ]
    # What the platforms call on us, authenticated by their signature or the connection's
    # credentials and idempotent by their own ids (webhook message ids, Vrbo's trackingUuid).
    assert plain == [
        "/channels/{platform}/webhooks",
        "/channels/fewo_direkt/{connection_id}/feeds/advertisersContentIndex",
        "/channels/fewo_direkt/{connection_id}/feeds/{index_name}",
        "/channels/fewo_direkt/{connection_id}/feeds/{kind}/{listing_id}",
        "/channels/fewo_direkt/{connection_id}/booking-updates",
        "/channels/fewo_direkt/{connection_id}/booking",
    ]
