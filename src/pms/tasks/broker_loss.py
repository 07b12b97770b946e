"""The worker's Celery consumer, surviving the broker going away.

When Redis goes away, Celery (5.7) collects the broken connection, which detaches its
transport from it, then closes it. The connection's channel keeps the messages it delivered and
that are not acknowledged yet: closing the channel hands them back to Redis, and a task that
finishes after the reconnection acknowledges its message on that channel. Both go through the
detached transport, where kombu reads connection settings that are gone and raises
``AttributeError`` ('NoneType' object has no attribute 'hostname'), which Celery does not
expect there: the worker stopped with "Unrecoverable error" instead of reconnecting.

Nothing can be handed back or acknowledged through a connection that is gone. So, when the
connection is lost, this consumer makes the channel's acknowledgements and hand-backs no-ops
before Celery closes it. Redis restores a message nobody acknowledged once its visibility
timeout passes (a restarted Redis without persistence has lost it anyway), and every task is
idempotent, so at worst a finished task runs again."""

from __future__ import annotations

from typing import Any

from celery.worker.consumer import Consumer as CeleryConsumer

from pms.logs import get_logger

_log = get_logger(__name__)

# What a channel does with its delivered, unacknowledged messages (kombu's QoS).
_THROUGH_THE_CONNECTION = ("ack", "reject", "restore_unacked", "restore_unacked_once")


def _nothing(*_: Any, **__: Any) -> None:
    return None


def forget_unacknowledged(connection: Any) -> None:
    """The lost connection's channel no longer acknowledges or hands back what it delivered."""
    channel = getattr(connection, "_default_channel", None)
    qos = getattr(channel, "_qos", None) if channel is not None else None
    if qos is None:
        return
    for name in _THROUGH_THE_CONNECTION:
        setattr(qos, name, _nothing)
    _log.warning("broker_connection_lost_unacknowledged_left", delivered=len(qos._delivered))


class Consumer(CeleryConsumer):
    def on_connection_error_after_connected(self, exc: Exception) -> None:
        if self.connection is not None:
            forget_unacknowledged(self.connection)
        super().on_connection_error_after_connected(exc)
