"""The worker's consumer survives the broker going away: the lost connection's channel no
longer acknowledges or hands back what it delivered, which kombu would otherwise do through a
transport Celery already detached (raising ``AttributeError`` and stopping the worker when
Redis was restarted mid-run). Celery's own handler is stood in for by what it does here: close
the broken connection, ignoring only connection errors; a task that finishes later then
acknowledges its message on the old channel."""

from __future__ import annotations

from typing import Any

import pytest
from celery.worker.consumer import Consumer as CeleryConsumer
from kombu.common import ignore_errors

from pms.settings import reset_settings_cache
from pms.tasks.broker_loss import Consumer


def _detached() -> None:
    raise AttributeError("'NoneType' object has no attribute 'hostname'")


class _QoS:
    """kombu's QoS of a channel whose transport was detached."""

    def __init__(self) -> None:
        self._delivered = {"tag-1": "a task still running"}

    def ack(self, delivery_tag: str) -> None:
        _detached()

    def reject(self, delivery_tag: str, requeue: bool = False) -> None:
        _detached()

    def restore_unacked(self) -> None:
        _detached()

    def restore_unacked_once(self) -> None:
        _detached()


class _Channel:
    def __init__(self) -> None:
        self._qos = _QoS()

    def close(self) -> None:
        self._qos.restore_unacked_once()


class _Connection:
    connection_errors = (ConnectionError,)
    channel_errors = ()

    def __init__(self) -> None:
        self._default_channel = _Channel()

    def close(self) -> None:
        self._default_channel.close()


def _celery_handler(self: Any, exc: Exception) -> None:
    connection, self.connection = self.connection, None
    if connection:
        ignore_errors(connection, connection.close)


def test_celerys_handler_alone_stops_the_worker_on_a_detached_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(CeleryConsumer, "on_connection_error_after_connected", _celery_handler)
    consumer: Any = object.__new__(CeleryConsumer)
    consumer.connection = _Connection()
    with pytest.raises(AttributeError, match="hostname"):
        consumer.on_connection_error_after_connected(ConnectionError("lost"))


def test_the_workers_consumer_closes_the_lost_connection_and_later_acks_do_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(CeleryConsumer, "on_connection_error_after_connected", _celery_handler)
    consumer: Any = object.__new__(Consumer)
    lost = _Connection()
    consumer.connection = lost
    consumer.on_connection_error_after_connected(ConnectionError("lost"))
    assert consumer.connection is None
    qos = lost._default_channel._qos
    qos.ack("tag-1")  # a task that finished after the reconnection
    qos.reject("tag-1", requeue=True)
    qos.restore_unacked()


def test_a_connection_without_a_channel_yet_is_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(CeleryConsumer, "on_connection_error_after_connected", _celery_handler)
    consumer: Any = object.__new__(Consumer)
    bare = _Connection()
    bare._default_channel = None  # type: ignore[assignment]
    bare.close = lambda: None  # type: ignore[method-assign]
    consumer.connection = bare
    consumer.on_connection_error_after_connected(ConnectionError("lost"))
    assert consumer.connection is None


def test_the_celery_app_runs_this_consumer(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The app reads its broker from the settings when first imported, and later tests in this
    # process send tasks through it: the import must see the suite's Redis, not the default
    # port (make run's Redis, or nothing), which once failed the scheduler test that way.
    monkeypatch.setenv("REDIS_URL", redis_url)
    reset_settings_cache()
    from pms.tasks.app import celery_app

    reset_settings_cache()

    assert celery_app.conf.worker_consumer == "pms.tasks.broker_loss:Consumer"
