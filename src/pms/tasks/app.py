"""The Celery application: Redis broker, late acks, time limits, JSON only, request ids carried."""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

import redis
import structlog
from celery import Celery, signals
from celery.schedules import crontab

from pms.heartbeats import heartbeat_key
from pms.logs import configure_logging, get_logger, request_id_var
from pms.settings import get_settings

_log = get_logger("pms.tasks")


def _make_app() -> Celery:
    settings = get_settings()
    app = Celery(
        "pms",
        include=[
            "pms.tasks.outbox",
            "pms.tasks.holds",
            "pms.tasks.emails",
            "pms.tasks.ari",
            "pms.tasks.ical",
            "pms.tasks.channel",
        ],
    )
    app.conf.update(
        broker_url=settings.require_redis_url(),
        result_backend=settings.require_redis_url(),
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_time_limit=settings.celery_task_time_limit,
        task_soft_time_limit=settings.celery_task_soft_time_limit,
        task_default_queue="default",
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        # Reconnects when Redis goes away, where Celery's own consumer could stop the worker.
        worker_consumer="pms.tasks.broker_loss:Consumer",
        broker_transport_options={"visibility_timeout": settings.celery_task_time_limit + 60},
        result_expires=3600,
        timezone="UTC",
        enable_utc=True,
        # "expires": a run the worker could not start in time is dropped, not piled up.
        beat_schedule={
            # The relay's safety net when no `pms relay` runs (it sweeps every 5 s itself).
            "outbox-sweep": {
                "task": "pms.outbox.sweep",
                "schedule": 10.0,
                "options": {"expires": 10},
            },
            # A lapsed hold blocks no booking (the next one on its property expires it), but
            # until this job writes it, its nights stay closed in the stored ARI: in the search
            # and on the channels. The sweep is one index lookup when nothing lapsed.
            "expire-holds": {
                "task": "pms.bookings.expire_holds",
                "schedule": 15.0,
                "options": {"expires": 15},
            },
            "email-outbox-sweep": {
                "task": "pms.emails.sweep",
                "schedule": settings.email_sweep_seconds,
            },
            # Shortly after midnight UTC; properties east of UTC have had their new day already,
            # and the plans' rows reach 24 months ahead, so a few hours late costs nothing.
            "ari-roll-horizon": {
                "task": "pms.ari.roll_horizon",
                "schedule": crontab(minute=15, hour=0),
            },
            # Each feed has its own interval and jitter; this tick only finds the due ones.
            "ical-poll-due": {"task": "pms.ical.poll_due", "schedule": 60.0},
            # Channel Manager safety nets: lost flushes, unapplied inbox messages, long failures.
            # Pulling platforms (Booking.com every 20 s, 5 s after an ack): the due ones.
            "channel-poll-due": {
                "task": "pms.channel.poll_due",
                "schedule": settings.channel_poll_tick_seconds,
                "options": {"expires": settings.channel_poll_tick_seconds},
            },
            "channel-sweep": {
                "task": "pms.channel.sweep",
                "schedule": 15.0,
                "options": {"expires": 15},
            },
            # Nightly read-back of every platform's window (after the ARI roll-forward).
            "channel-reconcile": {
                "task": "pms.channel.reconcile_all",
                "schedule": crontab(minute=45, hour=2),
            },
        },
    )
    return app


celery_app = _make_app()


@signals.setup_logging.connect
def _setup_logging(**_: Any) -> None:
    s = get_settings()
    configure_logging(s.log_level, s.log_json, cache=s.environment != "test")


@signals.before_task_publish.connect
def _carry_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    rid = request_id_var.get()
    if headers is not None and rid and "request_id" not in headers:
        headers["request_id"] = rid


@signals.task_prerun.connect
def _bind_request_id(task: Any = None, task_id: str | None = None, **_: Any) -> None:
    rid = getattr(task.request, "request_id", None) if task is not None else None
    request_id_var.set(rid)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(task_id=task_id, task=getattr(task, "name", None))


@signals.task_postrun.connect
def _unbind_request_id(**_: Any) -> None:
    request_id_var.set(None)
    structlog.contextvars.clear_contextvars()


class _Heartbeat:
    """Refreshes this worker's heartbeat key; /health/ready counts workers by these keys."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.key = heartbeat_key(f"{socket.gethostname()}:{os.getpid()}")

    def start(self) -> None:
        s = get_settings()
        client = redis.Redis.from_url(s.require_redis_url(), socket_timeout=5)

        def beat() -> None:
            while not self._stop.is_set():
                try:
                    client.set(self.key, "1", ex=s.worker_heartbeat_ttl_seconds)
                except redis.RedisError as exc:
                    _log.warning("heartbeat_failed", error=type(exc).__name__)
                self._stop.wait(s.worker_heartbeat_seconds)
            try:
                client.delete(self.key)
            except redis.RedisError:
                _log.warning("heartbeat_cleanup_failed")

        self._thread = threading.Thread(target=beat, name="pms-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


_heartbeat = _Heartbeat()


@signals.worker_ready.connect
def _start_heartbeat(**_: Any) -> None:
    _heartbeat.start()
    _log.info("worker_ready", heartbeat=_heartbeat.key)


@signals.worker_shutdown.connect
def _stop_heartbeat(**_: Any) -> None:
    _heartbeat.stop()
