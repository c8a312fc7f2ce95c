"""deliver_webhooks (queue `webhooks`) and the beat's sweep_webhooks: thin entries over dispatch."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from email_service.core.tasking.base import SystemTask
from email_service.events.webhooks import dispatch


@shared_task(bind=True, base=SystemTask, name="email_service.tasks.deliver_webhooks", ignore_result=True)
def deliver_webhooks(self: SystemTask, delivery_ids: list[str]) -> dict[str, Any]:
    """Attempt each delivery by id (ids only: no URL, secret or payload travels in the message)."""
    return dispatch.deliver([str(i) for i in delivery_ids][: dispatch.BATCH])


@shared_task(bind=True, base=SystemTask, name="email_service.tasks.sweep_webhooks", ignore_result=True)
def sweep_webhooks(self: SystemTask) -> dict[str, Any]:
    """Every 30 s: queue again the deliveries whose attempt is due (broker down, long waits)."""
    return dispatch.sweep()
