"""apply_flags, move_emails and folder_action (queue delete): thin entry points over the use cases.

Each is idempotent (STORE is; a move finds messages an earlier attempt moved; folder commands check the
server first), so a transient failure retries the whole batch: rows done stay done. A failure for good
reverts the local change, marks the action failed with the reason and fails the task with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import shared_task
from sqlalchemy.exc import OperationalError

from email_service.core.tasking.base import TenantTask
from email_service.messages.actions.errors import ActionFailed
from email_service.messages.actions.flags import run_flags
from email_service.messages.actions.folders import run_folder_action
from email_service.messages.actions.move import run_move

Runner = Callable[..., tuple[Any, dict[str, Any]]]


def run_write_back(
    task: TenantTask, runner: Runner, batch_id: str, tenant_id: str, user_id: str
) -> dict[str, Any]:
    """Run the batch; retry while transient failures left rows pending; fail with the reasons when
    nothing was done (the local change is reverted by then)."""
    final = (task.request.retries or 0) >= (task.max_retries or 0)
    try:
        outcome, result = runner(batch_id, tenant_id, user_id, final=final)
    except OperationalError as exc:
        raise task.retry_later(exc) from exc
    task.retry_if_attempts_remain(outcome.retryable and result["pending_count"] > 0, outcome.failed.values())
    if result["status"] == "failed":
        reasons = sorted({f["reason"] for f in result["failed"]})
        raise ActionFailed("; ".join(reasons)[:500] or "the server refused the change")
    return result


@shared_task(bind=True, base=TenantTask, name="email_service.tasks.apply_flags", max_retries=5)
def apply_flags(self: TenantTask, batch_id: str, tenant_id: str, user_id: str) -> dict[str, Any]:
    """STORE the flags a request changed; result {status, action, done_count, failed, attempts}."""
    return run_write_back(self, run_flags, batch_id, tenant_id, user_id)


@shared_task(bind=True, base=TenantTask, name="email_service.tasks.move_emails", max_retries=5)
def move_emails(self: TenantTask, batch_id: str, tenant_id: str, user_id: str) -> dict[str, Any]:
    """MOVE (else COPY + \\Deleted + UID EXPUNGE), then rows follow to their new UIDs."""
    return run_write_back(self, run_move, batch_id, tenant_id, user_id)


@shared_task(bind=True, base=TenantTask, name="email_service.tasks.folder_action", max_retries=5)
def folder_action(self: TenantTask, batch_id: str, tenant_id: str, user_id: str) -> dict[str, Any]:
    """CREATE / RENAME / DELETE a folder; the result names the folder id."""
    return run_write_back(self, run_folder_action, batch_id, tenant_id, user_id)
