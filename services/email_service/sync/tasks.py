"""sync_emails: a thin entry point over services.sync_service (retries only what may succeed later)."""

from __future__ import annotations

import random
from typing import Any

from celery import current_task, shared_task
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

from email_service.core.errors import TransientError
from email_service.core.tasking.base import TenantTask
from email_service.mail.imap.types import ImapConnectionError
from email_service.notifications import EmailTemplate, email_notification
from email_service.notifications.account_notice import notify_auth_failure
from email_service.spam.service import unscored_inbox_ids
from email_service.spam.tasks import enqueue_spam_scoring
from email_service.sync.group import summarize_group
from email_service.sync.service import SyncAuthError, run_account_sync
from email_service.sync.tenant_slots import TenantBusy

TENANT_BUSY_WAIT = (3.0, 8.0)  # seconds until a deferred sync looks for a free slot again (jittered)
RETRYABLE = (ImapConnectionError, TransientError, OperationalError, RedisConnectionError)


def _new_mail(result: Any) -> bool:
    """A sync summary is worth a mail when new mail arrived (copies of mirrored messages are not),
    unless the sync is one of a group (whose one summary mail covers every account)."""
    in_group = bool(getattr(current_task.request, "group", None)) if current_task else False
    return not in_group and isinstance(result, dict) and int(result.get("messages_new") or 0) > 0


@shared_task(bind=True, base=TenantTask, name="email_service.tasks.sync_emails", max_retries=5)
@email_notification(template=EmailTemplate.SYNC_SUMMARY, only_if=_new_mail)
def sync_emails(
    self: TenantTask,
    email_client_id: str,
    tenant_id: str,
    user_id: str,
    folder_id: str | None = None,
    force_full_sync: bool = False,
) -> dict[str, Any]:
    """Mirror the account's folders; auth failures and foreign accounts fail at once (PermanentError)."""
    try:
        result = run_account_sync(
            email_client_id,
            tenant_id,
            user_id,
            folder_id=folder_id,
            force_full_sync=force_full_sync,
            progress=lambda meta: self.report_progress(**meta),
            run_id=self.request.id,
        )
    except TenantBusy as exc:  # before RETRYABLE: waiting for a slot is not a failed attempt
        raise self.defer(random.uniform(*TENANT_BUSY_WAIT)) from exc
    except RETRYABLE as exc:
        raise self.retry_later(exc) from exc
    except SyncAuthError as exc:  # the account is parked; its owner hears about it once
        notify_auth_failure(email_client_id, tenant_id, user_id, self.name, self.request.id, str(exc))
        raise
    if result.messages_synced:
        enqueue_spam_scoring(tenant_id, user_id, unscored_inbox_ids(tenant_id, user_id, email_client_id))
    if result.status == "revoked":  # DELETE /api/tasks/<id>: stopped at a batch boundary
        raise self.end_revoked(result.as_dict(), tenant_id)
    return result.as_dict()


@shared_task(bind=True, base=TenantTask, name="email_service.tasks.sync_group_summary", max_retries=5)
def sync_group_summary(self: TenantTask, group_id: str, tenant_id: str, user_id: str) -> dict[str, Any]:
    """The group's chord callback (and its errback when a member failed): one outcome, one mail."""
    try:
        return summarize_group(group_id, tenant_id, user_id)
    except (OperationalError, RedisConnectionError) as exc:
        raise self.retry_later(exc) from exc
