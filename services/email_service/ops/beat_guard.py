"""One beat tick per window: a second beat process (or a late duplicate tick) must not fan out again.

Each beat task takes a Redis key with SET NX EX for most of its interval. Whichever tick arrives first in
the window runs; any other tick in the same window returns at once. The key is never released early:
it is the window itself, so two beats started at different moments still yield one fan-out per window.
"""

from __future__ import annotations

import socket

from email_service.core.config import get_settings
from email_service.sync.lock import redis_client

TICK_PREFIX = "email_service:beat_tick:"


def tick_key(name: str) -> str:
    return TICK_PREFIX + name


def claim_tick(name: str, window_seconds: int, task_id: str | None = None) -> bool:
    """True for the first tick of `name` in the current window; the value says who ran it (operators)."""
    owner = f"{socket.gethostname()}:{task_id or '-'}"
    client = redis_client(get_settings().broker_url)
    try:
        return bool(client.set(tick_key(name), owner, nx=True, ex=window_seconds))
    finally:
        client.close()
