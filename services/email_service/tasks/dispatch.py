"""Publishing many sync tasks over one broker connection (periodic_sync's fan-out)."""

from __future__ import annotations

from email_service.services.scheduling import SyncDispatch
from email_service.tasks.celery_app import TASK_PREFIX, celery_app


def publish_syncs(dispatches: list[SyncDispatch]) -> None:
    with celery_app.producer_or_acquire() as producer:
        for d in dispatches:
            celery_app.send_task(
                TASK_PREFIX + "sync_emails",
                kwargs={"email_client_id": d.account_id, "tenant_id": d.tenant_id, "user_id": d.user_id},
                task_id=d.task_id,
                countdown=d.countdown,
                headers={"tenant_id": d.tenant_id, "user_id": d.user_id},
                producer=producer,
            )
