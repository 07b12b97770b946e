"""Run async service code from Celery tasks on one event loop per worker process."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from celery import signals

T = TypeVar("T")
_loop: asyncio.AbstractEventLoop | None = None


def run(coro: Coroutine[Any, Any, T]) -> T:
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop.run_until_complete(coro)


@signals.worker_process_init.connect
def _fresh_loop_after_fork(**_: Any) -> None:
    # A forked child must not reuse the parent's loop or its pooled connections.
    global _loop
    _loop = None
    from pms import db

    db._engine = None
    db._sessionmaker = None
