"""draft_action (queue delete): the draft write-back, a thin entry point like the other write-backs."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from email_service.core.tasking.base import TenantTask
from email_service.messages.actions.tasks import run_write_back
from email_service.sending.drafts.writeback import run_draft_action


@shared_task(bind=True, base=TenantTask, name="email_service.tasks.draft_action", max_retries=5)
def draft_action(self: TenantTask, batch_id: str, tenant_id: str, user_id: str) -> dict[str, Any]:
    """Make the server's Drafts hold the draft's current version (or nothing once deleted or sent)."""
    return run_write_back(self, run_draft_action, batch_id, tenant_id, user_id)
