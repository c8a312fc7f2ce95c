"""A Redis channel per user: "something changed", published after commit, awaited by long-polls.

The message carries no data (the feed reads the log), so nothing of the mail reaches Redis. A lost
message only delays a long-poll until its `wait` is up: the log stays the truth.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import redis

from email_service.core.config import get_settings
from email_service.sync.lock import shared_client

log = logging.getLogger(__name__)
CHANNEL_PREFIX = "email_service:changes:"


def channel(tenant_id: str, user_id: str) -> str:
    return f"{CHANNEL_PREFIX}{tenant_id}:{user_id}"


def _redis() -> redis.Redis:
    return shared_client(get_settings().broker_url)


def publish_changed(owners: Iterable[tuple[str, str]]) -> None:
    """Wake every long-poll of these users; never fails the committed work that called it."""
    try:
        pipe = _redis().pipeline(transaction=False)
        for tenant_id, user_id in owners:
            pipe.publish(channel(tenant_id, user_id), b"1")
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("change notification not published: %s", exc)


class ChangeWaiter:
    """Subscribed before the feed is read, so a change committed in between still wakes it."""

    def __init__(self, tenant_id: str, user_id: str) -> None:
        self._pubsub = _redis().pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(channel(tenant_id, user_id))

    def wait(self, seconds: float) -> bool:
        """True when a change was announced within `seconds` (no database connection is held)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self._pubsub.get_message(timeout=min(left, 1.0)) is not None:
                return True
        return False

    def close(self) -> None:
        self._pubsub.close()
