"""cleanup_stale_results' use case: prune what the product keeps beyond its usefulness."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import redis
from sqlalchemy import CursorResult, delete, select, update

from email_service.accounts.model import EmailAccount
from email_service.core.config import get_settings
from email_service.core.db import session_scope
from email_service.core.model_base import utcnow
from email_service.core.tasking.model import TaskRecord
from email_service.events.model import Change
from email_service.events.webhooks.model import WebhookDelivery
from email_service.messages.actions.model import PENDING, MessageAction
from email_service.sending.model import OutboxMessage
from email_service.sending.uploads import prune_unused_uploads
from email_service.sync.lock import LOCK_PREFIX, lock_key

RESULT_PREFIX = "celery-task-meta-"
FINAL_OUTBOX_STATES = ("sent", "failed", "cancelled")


def expire_unbounded_results(client: redis.Redis, ttl_seconds: int) -> int:
    """Result keys written without a TTL (e.g. by an older config) get one; returns how many."""
    fixed = 0
    for key in client.scan_iter(match=RESULT_PREFIX + "*", count=1000):
        if client.ttl(key) == -1:
            client.expire(key, ttl_seconds)
            fixed += 1
    return fixed


def prune_rows(record_days: int, outbox_days: int, upload_hours: int, change_days: int) -> dict[str, int]:
    now = utcnow()
    with session_scope(system=True) as session:
        records: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            delete(TaskRecord).where(TaskRecord.created_at < now - timedelta(days=record_days))
        )
        outbox: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            delete(OutboxMessage).where(
                OutboxMessage.status.in_(FINAL_OUTBOX_STATES),
                OutboxMessage.updated_at < now - timedelta(days=outbox_days),
            )
        )
        # After the outbox rows: an upload whose only send was just pruned goes in the same run.
        uploads = prune_unused_uploads(session, now - timedelta(hours=upload_hours))
        actions: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            delete(MessageAction).where(
                MessageAction.state != PENDING,
                MessageAction.updated_at < now - timedelta(days=record_days),
            )
        )
        changes: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            delete(Change).where(Change.created_at < now - timedelta(days=change_days))
        )
        deliveries: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            delete(WebhookDelivery).where(
                WebhookDelivery.created_at < now - timedelta(days=get_settings().webhook_retention_days)
            )
        )
    return {
        "task_records_removed": records.rowcount,
        "changes_removed": changes.rowcount,
        "webhook_deliveries_removed": deliveries.rowcount,
        "outbox_removed": outbox.rowcount,
        "actions_removed": actions.rowcount,
        "uploads_removed": uploads,
    }


def release_orphaned_syncs(client: redis.Redis) -> dict[str, int]:
    """Accounts stuck in 'syncing' with no live lock are freed; locks of deleted accounts are dropped."""
    with session_scope(system=True) as session:
        syncing = session.scalars(select(EmailAccount.id).where(EmailAccount.state == "syncing")).all()
        orphaned = [account_id for account_id in syncing if not client.exists(lock_key(account_id))]
        if orphaned:
            session.execute(update(EmailAccount).where(EmailAccount.id.in_(orphaned)).values(state="active"))
        lock_ids = [
            key.decode().removeprefix(LOCK_PREFIX) for key in client.scan_iter(match=LOCK_PREFIX + "*")
        ]
        existing = set(session.scalars(select(EmailAccount.id).where(EmailAccount.id.in_(lock_ids))).all())
    dead = [lock_key(account_id) for account_id in lock_ids if account_id not in existing]
    if dead:
        client.delete(*dead)
    return {"accounts_unstuck": len(orphaned), "locks_removed": len(dead)}


def cleanup_stale_state() -> dict[str, Any]:
    settings = get_settings()
    results = redis.Redis.from_url(settings.result_backend_url)
    broker = redis.Redis.from_url(settings.broker_url)
    try:
        report: dict[str, Any] = {"status": "success"}
        report["results_expired"] = expire_unbounded_results(results, 3600)
        report.update(
            prune_rows(
                settings.task_record_retention_days,
                settings.outbox_retention_days,
                settings.unused_upload_retention_hours,
                settings.change_retention_days,
            )
        )
        report.update(release_orphaned_syncs(broker))
        return report
    finally:
        results.close()
        broker.close()
