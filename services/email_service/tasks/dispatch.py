"""Publishing many sync tasks over one broker connection (periodic_sync's fan-out)."""

from __future__ import annotations

from email_service.services.scheduling import SyncDispatch
from email_service.tasks.celery_app import TASK_PREFIX, celery_app

# Redis commands per pipeline round trip (each task is an LPUSH plus its task-sent event PUBLISH).
PUBLISH_BATCH_COMMANDS = 1000


def publish_syncs(dispatches: list[SyncDispatch]) -> None:
    """One producer, kombu's publish batch: pipelined LPUSHes instead of a round trip per message."""
    with celery_app.producer_or_acquire() as producer, producer.batch(PUBLISH_BATCH_COMMANDS):
        for d in dispatches:
            kwargs = {"email_client_id": d.account_id, "tenant_id": d.tenant_id, "user_id": d.user_id}
            celery_app.send_task(
                TASK_PREFIX + "sync_emails",
                kwargs=kwargs,
                argsrepr="()",
                kwargsrepr=repr(kwargs),
                task_id=d.task_id,
                countdown=d.countdown,
                headers={"tenant_id": d.tenant_id, "user_id": d.user_id},
                producer=producer,
                declare=[],
                retry=False,
            )
