"""Per-account overrides of one simulator: faults and rate limits set through the control API for
one platform account (else the sandbox-wide ones apply), so one tenant's connection can be made
to fail or be throttled while the others work."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from pms.sandbox.faults import FaultPlan, Faults
from pms.sandbox.ratelimit import SlidingWindow


@dataclass(frozen=True)
class Injected:
    """A fault drawn for one account's request, for the platform to answer in its own format:
    ``status`` 401 for expired credentials, 429 (with ``retry_after_s``), 5xx."""

    status: int
    message: str
    retry_after_s: int | None = None


class PerAccount:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.faults: dict[str, Faults] = {}
        self.limits: dict[str, SlidingWindow] = {}

    def reset(self) -> None:
        self.faults.clear()
        self.limits.clear()

    def set_faults(self, account: str, plan: FaultPlan) -> None:
        self.faults.setdefault(account, Faults()).configure(plan)

    def set_limits(self, account: str, requests: int, window_s: float) -> None:
        self.limits[account] = SlidingWindow(requests, window_s, self._clock)

    def hit(self, account: str, sandbox: SlidingWindow) -> int | None:
        """Count one request of ``account`` against its own limit, else the sandbox-wide one;
        ``None`` if allowed, else the seconds to wait (``Retry-After``)."""
        return self.limits.get(account, sandbox).hit(account)

    async def fault(self, account: str, method: str, path: str) -> Injected | None:
        """The account's own fault for this request, if it has a plan (latency and timeouts are
        waited out here); ``None``: serve the request."""
        faults = self.faults.get(account)
        plan = faults.plan if faults is not None else None
        if faults is None or plan is None:
            return None
        fault = faults.for_request(method, path)
        if fault.latency_s:
            await asyncio.sleep(fault.latency_s)
        if fault.kind == "error":
            return Injected(plan.error_status, "Internal error (injected)")
        if fault.kind == "rate_limit":
            return Injected(429, "Too many requests (injected)", plan.retry_after_s)
        if fault.kind == "timeout":
            await asyncio.sleep(plan.timeout_s)
            return Injected(504, "Gateway timeout (injected)")
        if plan.expired_credentials:
            return Injected(401, "Credentials expired (injected)")
        return None
