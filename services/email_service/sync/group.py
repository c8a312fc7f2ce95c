"""Syncing all of a user's enabled accounts as one group, answered by one task id and one summary mail.

POST /api/email/sync without email_client_id records the group and a sync per account, then
publishes them as a chord (core/tasking/start.start_group). Its callback, sync_group_summary, runs
once all members ended (or once as the errback when one failed), records the group's outcome and
mails one TASK_COMPLETION summary to a user who opted in. The members' own per-account
SYNC_SUMMARY mails are left out (see sync/tasks.py): the group's summary covers them.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from email_service.accounts.service import list_accounts
from email_service.core.db import session_scope
from email_service.core.errors import ValidationFailed
from email_service.core.model_base import utcnow
from email_service.core.tasking.groups import GROUP_KIND, members_of, outcome
from email_service.core.tasking.model import TaskRecord
from email_service.core.tasking.outcomes import record_outcome_in
from email_service.core.tasking.start import GroupMember, start_group
from email_service.core.tenancy.tokens import Identity
from email_service.notifications import EmailTemplate
from email_service.notifications.delivery import user_opted_in
from email_service.notifications.dispatch import publish_notification
from email_service.notifications.request import NotificationRequest

log = logging.getLogger(__name__)
SUMMARY_KIND = "sync_group_summary"
# What the summary mail calls the group ("Sync of all accounts completed").
GROUP_LABEL = "sync_of_all_accounts"


def request_group_sync(caller: Identity, force_full_sync: bool) -> str:
    """The group's task id; 422 when the caller has no account with sync enabled."""
    tenant_id, user_id = caller.tenant_id, caller.user_id
    with session_scope(tenant_id) as session:
        accounts = list_accounts(session, tenant_id, user_id)
        account_ids = [account.id for account in accounts if account.is_sync_enabled]
    if not account_ids:
        raise ValidationFailed("no account with sync enabled", {"email_client_id": "required"})
    members = [
        GroupMember(
            "sync_emails", account_id, {"email_client_id": account_id, "force_full_sync": force_full_sync}
        )
        for account_id in account_ids
    ]
    return start_group(caller, GROUP_KIND, members, SUMMARY_KIND, {})


def summarize_group(group_id: str, tenant_id: str, user_id: str) -> dict[str, Any]:
    """Record the group's outcome from its members'; the first run to record it sends the mail."""
    members = members_of(tenant_id, user_id, group_id)
    status, result, error = outcome(members)
    with session_scope(tenant_id) as session:
        first = record_outcome_in(session, tenant_id, group_id, status, result, error, first=True)
    if first:
        _notify(group_id, tenant_id, user_id, status, result, error)
    return result


def _notify(
    group_id: str, tenant_id: str, user_id: str, status: str, result: dict[str, Any], error: Any
) -> None:
    template = EmailTemplate.TASK_COMPLETION
    if not user_opted_in(tenant_id, user_id, template):
        return
    with session_scope(tenant_id) as session:
        started = session.scalar(
            select(TaskRecord.created_at).where(TaskRecord.id == group_id, TaskRecord.tenant_id == tenant_id)
        )
    elapsed = (utcnow() - started).total_seconds() if started is not None else None
    request = NotificationRequest.for_outcome(
        template.value,
        tenant_id,
        user_id,
        task_name=GROUP_LABEL,
        task_id=group_id,
        status=status,
        execution_time=round(elapsed, 3) if elapsed is not None else None,
        error_message=error["message"] if error else None,
        result=result,
    )
    publish_notification(request)
