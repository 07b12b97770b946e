"""The guest's signed self-service link to one booking: issued with the booking's e-mails and
answers, verified on every use; an invalid or expired one looks like a missing booking."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt

from pms.core.errors import NotFound
from pms.settings import Settings

AUDIENCE = "pms-guest-booking"


def issue(settings: Settings, agency_id: uuid.UUID, booking_id: uuid.UUID) -> str:
    claims = {
        "aud": AUDIENCE,
        "sub": str(booking_id),
        "agency": str(agency_id),
        "iat": datetime.now(UTC),
        # Long enough to manage the stay and find it again afterwards.
        "exp": datetime.now(UTC) + timedelta(days=730),
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm="HS256")


def verify(settings: Settings, token: str) -> tuple[uuid.UUID, uuid.UUID]:
    """(agency id, booking id) of a valid link; anything else looks like a missing booking."""
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=["HS256"],
            audience=AUDIENCE,
            options={"require": ["exp", "sub", "aud"]},
        )
        return uuid.UUID(claims["agency"]), uuid.UUID(claims["sub"])
    except (jwt.PyJWTError, KeyError, ValueError):
        raise NotFound("No booking behind this link (it may have expired).") from None


def manage_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/api/v1/public/bookings/{token}"


def page_url(settings: Settings, agency_slug: str, token: str) -> str:
    """The guest's self-service page on the booking site (what e-mails link to)."""
    return f"{settings.booking_site_url.rstrip('/')}/{agency_slug}/manage/{token}"
