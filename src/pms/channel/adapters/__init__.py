"""Platform adapters: one module per platform behind one interface (``base.Adapter``)."""

from __future__ import annotations

from pms.channel.adapters.airbnb import AirbnbAdapter
from pms.channel.adapters.base import Adapter, UnknownPlatform
from pms.channel.adapters.booking import BookingAdapter
from pms.settings import Settings


def adapter_for(platform: str, settings: Settings) -> Adapter:
    """The adapter of a platform; a platform is its adapter module plus its settings."""
    if platform == "airbnb":
        return AirbnbAdapter(settings)
    if platform == "booking_com":
        return BookingAdapter(settings)
    raise UnknownPlatform(platform)


SUPPORTED = ("airbnb", "booking_com")
