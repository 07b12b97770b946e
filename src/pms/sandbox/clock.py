"""The sandbox's clock: real UTC time plus an offset the control API can advance (for deadlines)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

CET = ZoneInfo("Europe/Amsterdam")


class SimClock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def seconds(self) -> float:
        """Seconds on the sandbox clock, so advancing it also ages rate-limit windows."""
        return self.now().timestamp()

    def today_in(self, tz: ZoneInfo) -> date:
        return self.now().astimezone(tz).date()

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)

    def reset(self) -> None:
        self.offset = timedelta()
