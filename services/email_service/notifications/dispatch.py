"""Publishing send_notification: its own task on the send queue, so mail never delays or fails the caller."""

from __future__ import annotations

import logging
from uuid import uuid4

from email_service.notifications.request import NotificationRequest

log = logging.getLogger(__name__)
TASK_KIND = "send_notification"


def publish_notification(request: NotificationRequest) -> str | None:
    """The new task's id, or None when the broker refused it (logged; the reported task goes on)."""
    # Celery stays out of the import graph of rules.
    from email_service.core.tasking.start import BROKER_DOWN, publish_task

    kwargs = request.as_kwargs()
    tenant_id, user_id = kwargs.pop("tenant_id"), kwargs.pop("user_id")
    try:
        return publish_task(TASK_KIND, str(uuid4()), tenant_id, user_id, kwargs)
    except BROKER_DOWN as exc:  # a notification must never break the task it reports on
        log.warning("notification %s for task %s not queued: %s", request.template, request.task_id, exc)
        return None
