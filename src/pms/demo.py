"""Demo data that ``pms dev`` loads so a newcomer sees the system working (idempotent)."""

from __future__ import annotations

from collections.abc import Iterator


def seed_demo() -> Iterator[str]:
    yield "demo data: nothing to load yet"
