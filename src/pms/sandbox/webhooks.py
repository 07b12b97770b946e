"""Outbound webhooks: signed POSTs to the PMS, retried with exponential backoff on non-2xx.

Events go out one at a time in the order they happened (a failing one is retried before the next
is sent), unless faults say otherwise: per event, delivered, dropped, sent twice, or held back and
sent after the next one (reordered). Every attempt is recorded for read-back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from pms.logs import get_logger
from pms.sandbox.clock import SimClock
from pms.sandbox.faults import Faults

log = get_logger(__name__)
DeliveryState = Literal["pending", "delivered", "failed", "dropped", "held"]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over ``"<timestamp>." + raw body``, hex-encoded."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


@dataclass
class WebhookConfig:
    url: str | None = None
    secret: str = "sandbox-airbnb-webhook-secret"
    max_attempts: int = 6
    backoff_base_s: float = 1.0
    backoff_max_s: float = 300.0
    timeout_s: float = 10.0


@dataclass
class Delivery:
    event_id: str
    event_type: str
    body: bytes
    copy: int = 1
    state: DeliveryState = "pending"
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "copy": self.copy,
            "state": self.state,
            "attempts": self.attempts,
        }


class WebhookSender:
    def __init__(self, faults: Faults, clock: SimClock, header_prefix: str) -> None:
        self.faults = faults
        self.clock = clock
        self.prefix = header_prefix
        self.config = WebhookConfig()
        self.deliveries: list[Delivery] = []
        self._held: list[Delivery] = []
        self._queue: asyncio.Queue[Delivery] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    def emit(self, event_id: str, event_type: str, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, separators=(",", ":"), default=str).encode()
        delivery = Delivery(event_id, event_type, body)
        self.deliveries.append(delivery)
        match self.faults.for_webhook(event_id):
            case "drop":
                delivery.state = "dropped"
                return
            case "reorder":
                delivery.state = "held"
                self._held.append(delivery)
                return
            case "duplicate":
                twin = Delivery(event_id, event_type, body, copy=2)
                self.deliveries.append(twin)
                self._start(delivery)
                self._start(twin)
            case "deliver":
                self._start(delivery)
        self.flush()

    def flush(self) -> None:
        """Send what reordering held back (it goes out after the event that overtook it)."""
        held, self._held = self._held, []
        for delivery in held:
            delivery.state = "pending"
            self._start(delivery)

    def _start(self, delivery: Delivery) -> None:
        if self._queue is None or self._worker is None or self._worker.done():
            self._queue = asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(self._work(self._queue))
        self._queue.put_nowait(delivery)

    async def _work(self, queue: asyncio.Queue[Delivery]) -> None:
        while True:
            delivery = await queue.get()
            try:
                await self._deliver(delivery)
            finally:
                queue.task_done()

    async def _deliver(self, delivery: Delivery) -> None:
        config = self.config
        for attempt in range(1, config.max_attempts + 1):
            record: dict[str, Any] = {"attempt": attempt, "at": self.clock.now().isoformat()}
            delivery.attempts.append(record)
            if config.url is None:
                record["error"] = "no webhook URL configured"
            else:
                timestamp = int(self.clock.now().timestamp())
                headers = {
                    "Content-Type": "application/json",
                    f"{self.prefix}-Timestamp": str(timestamp),
                    f"{self.prefix}-Signature": "v1="
                    + sign(config.secret, timestamp, delivery.body),
                    f"{self.prefix}-Event-Id": delivery.event_id,
                    f"{self.prefix}-Delivery-Attempt": str(attempt),
                }
                try:
                    response = await self._http().post(
                        config.url, content=delivery.body, headers=headers, timeout=config.timeout_s
                    )
                    record["status"] = response.status_code
                    if response.is_success:
                        delivery.state = "delivered"
                        return
                except httpx.HTTPError as exc:
                    record["error"] = type(exc).__name__
            if attempt < config.max_attempts:
                await asyncio.sleep(
                    min(config.backoff_max_s, config.backoff_base_s * 2 ** (attempt - 1))
                )
        delivery.state = "failed"
        log.warning("webhook_failed", event_id=delivery.event_id, attempts=config.max_attempts)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient()
        return self._client

    def reset(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        self._worker = self._queue = None
        self._held.clear()
        self.deliveries.clear()
        self.config = WebhookConfig()

    async def close(self) -> None:
        self.reset()
        if self._client is not None:
            with contextlib.suppress(RuntimeError):
                await self._client.aclose()
            self._client = None
