"""Platform adapters: one module per platform behind one interface (``base.Adapter``)."""

from __future__ import annotations

from pms.channel.adapters.airbnb import AirbnbAdapter
from pms.channel.adapters.base import FULL_FIDELITY, Adapter, Fidelity, UnknownPlatform
from pms.channel.adapters.booking import BookingAdapter
from pms.channel.adapters.expedia import ExpediaAdapter
from pms.settings import Settings


def adapter_for(platform: str, settings: Settings) -> Adapter:
    """The adapter of a platform; a platform is its adapter module plus its settings."""
    if platform == "airbnb":
        return AirbnbAdapter(settings)
    if platform == "booking_com":
        return BookingAdapter(settings)
    if platform == "expedia":
        return ExpediaAdapter(settings)
    raise UnknownPlatform(platform)


def fidelity_of(platform: str) -> Fidelity:
    """What the platform can show of Core's rules (``Fidelity``); all of them by default."""
    found: Fidelity = getattr(_CLASSES.get(platform), "fidelity", FULL_FIDELITY)
    return found


_CLASSES: dict[str, type] = {
    "airbnb": AirbnbAdapter,
    "booking_com": BookingAdapter,
    "expedia": ExpediaAdapter,
}
SUPPORTED = ("airbnb", "booking_com", "expedia")
