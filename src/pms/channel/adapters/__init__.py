"""Platform adapters: one module per platform behind one interface (``base.Adapter``)."""

from __future__ import annotations

from pms.channel.adapters.airbnb import AirbnbAdapter
from pms.channel.adapters.base import FULL_FIDELITY, Adapter, Fidelity, UnknownPlatform
from pms.channel.adapters.booking import BookingAdapter
from pms.channel.adapters.expedia import ExpediaAdapter
from pms.channel.adapters.google import GoogleAdapter
from pms.channel.adapters.vrbo import VrboAdapter
from pms.settings import Settings

_CLASSES: dict[str, type] = {
    "airbnb": AirbnbAdapter,
    "booking_com": BookingAdapter,
    "expedia": ExpediaAdapter,
    "fewo_direkt": VrboAdapter,
    "google": GoogleAdapter,
}
SUPPORTED = tuple(_CLASSES)


def adapter_for(platform: str, settings: Settings) -> Adapter:
    """The adapter of a platform; a platform is its adapter module plus its settings."""
    cls = _CLASSES.get(platform)
    if cls is None:
        raise UnknownPlatform(platform)
    adapter: Adapter = cls(settings)
    return adapter


def fidelity_of(platform: str) -> Fidelity:
    """What the platform can show of Core's rules (``Fidelity``); all of them by default."""
    found: Fidelity = getattr(_CLASSES.get(platform), "fidelity", FULL_FIDELITY)
    return found


def shares_account(platform: str) -> bool:
    """Whether the platform's connections are hotels of one platform account (Booking.com's
    machine account, an EQC account), so the engine flushes them together; a connection is an
    account of its own otherwise (an Airbnb host, a Vrbo advertiser)."""
    return bool(getattr(_CLASSES.get(platform), "connections_share_account", False))
