"""Platform adapters: one module per platform behind one interface (``base.Adapter``)."""

from __future__ import annotations

from pms.channel.adapters.airbnb import AirbnbAdapter
from pms.channel.adapters.base import Adapter, UnknownPlatform
from pms.channel.adapters.google import GoogleAdapter
from pms.channel.adapters.vrbo import VrboAdapter
from pms.settings import Settings


def adapter_for(platform: str, settings: Settings) -> Adapter:
    """The adapter of a platform; a platform is its adapter module plus its settings."""
    if platform == "airbnb":
        return AirbnbAdapter(settings)
    if platform == "fewo_direkt":
        return VrboAdapter(settings)
    if platform == "google":
        return GoogleAdapter(settings)
    raise UnknownPlatform(platform)


SUPPORTED = ("airbnb", "fewo_direkt", "google")
