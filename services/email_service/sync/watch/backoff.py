"""Reconnect delays and the start pacer: pure timing logic for the watcher."""

from __future__ import annotations

import asyncio
import random

BASE_SECONDS = 1.0
MAX_SECONDS = 300.0


def reconnect_delay(attempt: int, suggested: float | None = None, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff (attempt 0 → up to 1 s, doubling to 5 min), never below what a
    throttling server asked for: thousands of connections dropped at once do not come back at once."""
    ceiling = min(MAX_SECONDS, BASE_SECONDS * 2 ** min(attempt, 16))
    delay = (rng or random).uniform(ceiling / 2, ceiling)
    return max(delay, suggested or 0.0)


class StartPacer:
    """At most `per_second` connection starts per second across the process (a staggered start)."""

    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second
        self._next = 0.0

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(now, self._next)
        self._next = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)
