"""A small process-local memory of checks that are too costly to repeat on every request."""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Values confirmed by a check (a query, a signature), each trusted for at most `ttl` seconds.

    Bounded: at `max_entries` it starts over rather than tracking recency, which keeps a hit to a
    dict lookup. Reads take no lock; a write replaces one entry whole.
    """

    def __init__(self, ttl: float, max_entries: int) -> None:
        self.ttl, self.max_entries = ttl, max_entries
        self._entries: dict[K, tuple[V, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() >= entry[1]:
            return None
        return entry[0]

    def put(self, key: K, value: V, ttl: float | None = None) -> None:
        """Remember `value` for `ttl` seconds, never longer than the cache's own ttl."""
        lifetime = self.ttl if ttl is None else min(ttl, self.ttl)
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (value, time.monotonic() + lifetime)

    def discard(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
