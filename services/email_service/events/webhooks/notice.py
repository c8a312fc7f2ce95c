"""Tell a webhook's owner, once per disabling, that it was disabled (the disabling itself is the once)."""

from __future__ import annotations

import logging

from email_service.notifications.catalog import EmailTemplate
from email_service.notifications.dispatch import publish_notification
from email_service.notifications.request import NotificationRequest

log = logging.getLogger(__name__)


def notify_disabled(
    tenant_id: str, user_id: str, webhook_id: str, failed_events: int, error: str | None
) -> None:
    """Queue WEBHOOK_DISABLED; never raises (the delivery's outcome is already stored)."""
    try:
        request = NotificationRequest.for_outcome(
            EmailTemplate.WEBHOOK_DISABLED.value,
            tenant_id,
            user_id,
            task_name="deliver_webhooks",
            status="failed",
            error_message=error,
            result={"webhook_id": webhook_id, "failed_events": failed_events},
        )
        publish_notification(request)
        log.info("webhook %s disabled after %d failed events; owner notified", webhook_id, failed_events)
    except Exception:
        log.exception("webhook-disabled notice for %s not queued", webhook_id)
