"""Deterministic fault injection: a seed fixes the sequence of faults, so a run can be replayed.

Request faults and webhook faults draw from two separate generators seeded from the same seed, so
the webhook sequence does not depend on how many requests happened in between (and vice versa).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator
from starlette.types import ASGIApp, Receive, Scope, Send

Rate = Field(default=0.0, ge=0.0, le=1.0)
RequestFaultKind = Literal["none", "error", "rate_limit", "timeout"]
WebhookFault = Literal["deliver", "drop", "duplicate", "reorder"]


class FaultPlan(BaseModel):
    """What to inject, and how often. Rates are probabilities per request (or per webhook)."""

    seed: int
    latency_rate: float = Rate
    latency_ms: int = Field(default=0, ge=0, le=60_000)
    error_rate: float = Rate
    error_status: int = Field(default=500, ge=500, le=599)
    rate_limit_rate: float = Rate
    retry_after_s: int = Field(default=1, ge=0, le=3600)
    timeout_rate: float = Rate
    timeout_s: float = Field(default=30.0, ge=0.0, le=600.0)
    expired_credentials: bool = False
    webhook_drop_rate: float = Rate
    webhook_duplicate_rate: float = Rate
    webhook_reorder_rate: float = Rate

    @model_validator(mode="after")
    def _exclusive_rates_fit(self) -> FaultPlan:
        if self.error_rate + self.rate_limit_rate + self.timeout_rate > 1.0:
            raise ValueError("error_rate + rate_limit_rate + timeout_rate must not exceed 1")
        webhook = self.webhook_drop_rate + self.webhook_duplicate_rate + self.webhook_reorder_rate
        if webhook > 1.0:
            raise ValueError("the webhook fault rates must not add up to more than 1")
        return self


@dataclass(frozen=True)
class RequestFault:
    kind: RequestFaultKind
    latency_s: float = 0.0


class Faults:
    """One platform's fault state; every decision is appended to ``log`` for read-back."""

    def __init__(self) -> None:
        self.plan: FaultPlan | None = None
        self._requests = random.Random(0)
        self._webhooks = random.Random(0)
        self.log: list[dict[str, Any]] = []

    def configure(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._requests = random.Random(plan.seed)
        self._webhooks = random.Random(f"webhooks-{plan.seed}")
        self.log = []

    def clear(self) -> None:
        self.plan = None
        self.log = []

    @property
    def credentials_expired(self) -> bool:
        return self.plan is not None and self.plan.expired_credentials

    def for_request(self, method: str, path: str) -> RequestFault:
        plan = self.plan
        if plan is None:
            return RequestFault("none")
        # Always two draws per request, so the sequence stays aligned whatever the outcome.
        kind_draw, latency_draw = self._requests.random(), self._requests.random()
        kind: RequestFaultKind = "none"
        edge = plan.error_rate
        if kind_draw < edge:
            kind = "error"
        elif kind_draw < (edge := edge + plan.rate_limit_rate):
            kind = "rate_limit"
        elif kind_draw < edge + plan.timeout_rate:
            kind = "timeout"
        latency = plan.latency_ms / 1000 if latency_draw < plan.latency_rate else 0.0
        self.log.append(
            {
                "n": len(self.log) + 1,
                "method": method,
                "path": path,
                "fault": kind,
                "latency_ms": round(latency * 1000),
            }
        )
        return RequestFault(kind, latency)

    def for_webhook(self, event_id: str) -> WebhookFault:
        plan = self.plan
        if plan is None:
            return "deliver"
        draw = self._webhooks.random()
        fault: WebhookFault = "deliver"
        edge = plan.webhook_drop_rate
        if draw < edge:
            fault = "drop"
        elif draw < (edge := edge + plan.webhook_duplicate_rate):
            fault = "duplicate"
        elif draw < edge + plan.webhook_reorder_rate:
            fault = "reorder"
        self.log.append({"n": len(self.log) + 1, "webhook": event_id, "fault": fault})
        return fault


# (status, message) -> (body, media type): each platform renders faults in its own error format.
Renderer = Callable[[int, str], tuple[bytes, str]]
# (status, message, path) -> (body, media type): for platforms whose error's shape depends on the
# endpoint it answers (OTA: the root element is the endpoint's own ``...RS``).
PathRenderer = Callable[[int, str, str], tuple[bytes, str]]


class FaultInjection:
    """ASGI middleware in front of one simulator's platform paths (never the control API)."""

    def __init__(
        self,
        app: ASGIApp,
        faults: Faults,
        render: Renderer | None = None,
        *,
        render_at: PathRenderer | None = None,
    ) -> None:
        if render_at is None:
            assert render is not None, "a renderer is needed"
            plain = render

            def render_at(status: int, message: str, _path: str) -> tuple[bytes, str]:
                return plain(status, message)

        self.app = app
        self.faults = faults
        self.render_at = render_at

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fault = self.faults.for_request(scope["method"], scope["path"])
        plan = self.faults.plan
        if fault.latency_s:
            await asyncio.sleep(fault.latency_s)
        if fault.kind == "none" or plan is None:
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = []
        if fault.kind == "error":
            status, message = plan.error_status, "Internal error (injected)"
        elif fault.kind == "rate_limit":
            status, message = 429, "Too many requests (injected)"
            headers.append((b"retry-after", str(plan.retry_after_s).encode()))
        else:
            # A timeout: hold the request past any sensible client timeout, then give up.
            await asyncio.sleep(plan.timeout_s)
            status, message = 504, "Gateway timeout (injected)"
        body, media_type = self.render_at(status, message, scope["path"])
        headers += [
            (b"content-type", media_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
