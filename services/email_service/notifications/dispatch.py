"""Publishing send_notification: its own task on the send queue, so mail never delays or fails the caller."""

from __future__ import annotations

import logging
from uuid import uuid4

from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from email_service.notifications.request import NotificationRequest

log = logging.getLogger(__name__)
TASK_NAME = "email_service.tasks.send_notification"
# What publishing raises when the broker is away; anything else is a bug and is not hidden here.
BROKER_DOWN = (OperationalError, RedisError, OSError)


def publish_notification(request: NotificationRequest) -> str | None:
    """The new task's id, or None when the broker refused it (logged; the reported task goes on)."""
    from email_service.core.tasking.status import (
        task_launcher,  # Celery stays out of the import graph of rules
    )

    kwargs = request.as_kwargs()
    tenant_id, user_id = kwargs.pop("tenant_id"), kwargs.pop("user_id")
    try:
        return task_launcher(TASK_NAME, str(uuid4()), tenant_id, user_id, kwargs)
    except BROKER_DOWN as exc:  # a notification must never break the task it reports on
        log.warning("notification %s for task %s not queued: %s", request.template, request.task_id, exc)
        return None
