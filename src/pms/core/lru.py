"""A small in-process LRU with a time limit and a size budget, for per-process caches whose
entries are also validated against a generation (``pms.core.generations``)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TimedLRU(Generic[V]):
    """At most ``max_size`` (by ``sizeof``, default 1 per entry) of entries younger than
    ``ttl_seconds``; the least recently used go first. Not thread-safe: one event loop."""

    def __init__(
        self,
        ttl_seconds: float,
        max_size: int,
        sizeof: Callable[[V], int] = lambda _: 1,
    ) -> None:
        self.ttl = ttl_seconds
        self.max_size = max_size
        self._sizeof = sizeof
        self._entries: OrderedDict[Hashable, tuple[float, int, V]] = OrderedDict()
        self._size = 0

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, _, value = entry
        if time.monotonic() - stored_at >= self.ttl:
            self.pop(key)
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: Hashable, value: V) -> None:
        size = self._sizeof(value)
        if self.ttl <= 0 or size > self.max_size:
            return
        self.pop(key)
        self._entries[key] = (time.monotonic(), size, value)
        self._size += size
        while self._size > self.max_size:
            _, (_, old_size, _) = self._entries.popitem(last=False)
            self._size -= old_size

    def pop(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._size -= entry[1]

    def clear(self) -> None:
        self._entries.clear()
        self._size = 0

    def __len__(self) -> int:
        return len(self._entries)
