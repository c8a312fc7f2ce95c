"""delete_emails and restore_emails (queue delete): thin entry points over services.deletion/restore.

Both are idempotent, so a transient failure retries the whole request: what was done stays done.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from sqlalchemy.exc import OperationalError

from email_service.core.tasking.base import TenantTask
from email_service.deletion.restore import restore_messages
from email_service.deletion.service import delete_messages


@shared_task(bind=True, base=TenantTask, name="email_service.tasks.delete_emails", max_retries=5)
def delete_emails(
    self: TenantTask, email_ids: list[str], tenant_id: str, user_id: str, permanent: bool = False
) -> dict[str, Any]:
    """Soft: move to Trash and keep hidden (restorable). Permanent: UID EXPUNGE exactly, then purge.

    A permanent delete that leaves messages on the server shows their rows again: refused ones at
    once, transient failures only on the last attempt (earlier ones retry with the rows hidden).
    """
    final = (self.request.retries or 0) >= (self.max_retries or 0)
    try:
        outcome, result = delete_messages(email_ids, tenant_id, user_id, permanent=permanent, final=final)
    except OperationalError as exc:
        raise self.retry_later(exc) from exc
    self.retry_if_attempts_remain(outcome.retryable, outcome.failed.values())
    return result


@shared_task(bind=True, base=TenantTask, name="email_service.tasks.restore_emails", max_retries=5)
def restore_emails(self: TenantTask, email_ids: list[str], tenant_id: str, user_id: str) -> dict[str, Any]:
    """Move soft-deleted messages back to their original folder and show them again."""
    try:
        outcome, result = restore_messages(email_ids, tenant_id, user_id)
    except OperationalError as exc:
        raise self.retry_later(exc) from exc
    self.retry_if_attempts_remain(outcome.retryable, outcome.failed.values())
    return result
