"""check_spam and check_spam_batch (queue spam): thin entry points over services.spam_service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import uuid4

from celery import shared_task
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError

from email_service.core.db import session_scope
from email_service.core.errors import PermanentError
from email_service.core.tasking.base import TenantTask
from email_service.core.tasking.start import publish_task
from email_service.spam.junk import move_spam_to_junk
from email_service.spam.service import score_stored_messages

BATCH_SIZE = 500  # ids per check_spam_batch task: one task per batch, never one per message


@shared_task(bind=True, base=TenantTask, name="email_service.tasks.check_spam", max_retries=3)
def check_spam(self: TenantTask, email_id: str, tenant_id: str, user_id: str) -> dict[str, Any]:
    """Score one of the caller's messages and store the verdict on it."""
    try:
        with session_scope(tenant_id) as session:
            results = score_stored_messages(session, [email_id], tenant_id, user_id)
    except OperationalError as exc:
        raise self.retry_later(exc) from exc
    if not results:
        raise PermanentError(f"message {email_id} not found")
    result = results[0]
    moved = _move_to_junk(self, results, tenant_id, user_id)
    return {
        "status": "completed",
        "is_spam": result["is_spam"],
        "spam_score": result["spam_score"],
        "verdict": result["verdict"],
        "indicators": result["indicators"],
        "moved_to_junk": bool(moved),
    }


@shared_task(bind=True, base=TenantTask, name="email_service.tasks.check_spam_batch", max_retries=3)
def check_spam_batch(self: TenantTask, email_ids: list[str], tenant_id: str, user_id: str) -> dict[str, Any]:
    """Score a batch of new mail found by a sync; ids the caller does not own are skipped."""
    try:
        with session_scope(tenant_id) as session:
            results = score_stored_messages(session, email_ids[:BATCH_SIZE], tenant_id, user_id)
    except OperationalError as exc:
        raise self.retry_later(exc) from exc
    spam = sum(1 for r in results if r["is_spam"])
    uncertain = sum(1 for r in results if r["verdict"] == "uncertain")
    moved = _move_to_junk(self, results, tenant_id, user_id)
    return {
        "status": "completed",
        "scored": len(results),
        "spam": spam,
        "uncertain": uncertain,
        "moved_to_junk": moved,
    }


def _move_to_junk(task: TenantTask, results: list[dict[str, Any]], tenant_id: str, user_id: str) -> int:
    """After the verdicts are committed: spam in INBOX goes to Junk when the account says so.

    Transient trouble (a sync holds the account, IMAP unreachable) retries the task, which re-scores
    and tries again; the last attempt keeps the verdicts and leaves the messages where they are.
    """
    spam_ids = [r["email_id"] for r in results if r["is_spam"]]
    if not spam_ids:
        return 0
    try:
        outcome = move_spam_to_junk(spam_ids, tenant_id, user_id)
    except (OperationalError, RedisError) as exc:
        raise task.retry_later(exc) from exc
    task.retry_if_attempts_remain(outcome.retryable, outcome.failed.values())
    return len(outcome.done)


def enqueue_spam_scoring(
    tenant_id: str, user_id: str, message_ids: Sequence[str], batch_size: int = BATCH_SIZE
) -> list[str]:
    """Publish one check_spam_batch per batch_size ids (call after the rows are committed)."""
    ids = [str(i) for i in message_ids]
    task_ids: list[str] = []
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        task_id = publish_task("check_spam_batch", str(uuid4()), tenant_id, user_id, {"email_ids": chunk})
        task_ids.append(task_id)
    return task_ids
