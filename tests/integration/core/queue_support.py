"""Where a queue's waiting messages are in Redis: the transport keeps one list per priority step."""

from __future__ import annotations

from typing import Any

from email_service.tasks.celery_app import QUEUE_PRIORITY, broker_priority, celery_app


def queue_list(queue: str) -> str:
    """The list holding the queue's messages at its priority: `sync`, `send\\x06\\x162` (guide §2)."""
    with celery_app.connection_for_read() as conn:
        channel: Any = conn.default_channel
        return str(channel._q_for_pri(queue, broker_priority(QUEUE_PRIORITY[queue])))
