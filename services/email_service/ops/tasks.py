"""Beat tasks: periodic_sync fans out due accounts; cleanup_stale_results prunes old state."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from email_service.core.tasking.base import SystemTask
from email_service.core.tasking.bulk_publish import publish_sends, publish_syncs
from email_service.ops.beat_guard import claim_tick
from email_service.ops.cleanup import cleanup_stale_state
from email_service.ops.schedules import CLEANUP_WINDOW_SECONDS, PERIODIC_SYNC_WINDOW_SECONDS
from email_service.ops.scheduling import dispatch_due_syncs
from email_service.sending.recovery import release_due_sends, stale_sends

EMPTY_TICK: dict[str, Any] = {
    "dispatched": 0,
    "skipped": 0,
    "task_ids": [],
    "released_sends": [],
    "requeued_sends": [],
}


@shared_task(bind=True, base=SystemTask, name="email_service.tasks.periodic_sync")
def periodic_sync(self: SystemTask) -> dict[str, Any]:
    """Every 5 minutes: start sync_emails for each due, healthy account, release scheduled sends
    coming due and re-publish lost ones."""
    if not claim_tick("periodic_sync", PERIODIC_SYNC_WINDOW_SECONDS, self.request.id):
        return {"status": "duplicate_tick", **EMPTY_TICK}
    result = dispatch_due_syncs(publish_syncs).as_dict()
    # Scheduled sends coming due (they wait in the database, not in the broker), then lost ones.
    result["released_sends"] = publish_sends(release_due_sends())
    result["requeued_sends"] = publish_sends(stale_sends())
    return result


@shared_task(bind=True, base=SystemTask, name="email_service.tasks.cleanup_stale_results")
def cleanup_stale_results(self: SystemTask) -> dict[str, Any]:
    """Hourly: expired results, old task records and outbox rows, orphaned sync locks (once per window)."""
    if not claim_tick("cleanup_stale_results", CLEANUP_WINDOW_SECONDS, self.request.id):
        return {"status": "duplicate_tick"}
    return cleanup_stale_state()
