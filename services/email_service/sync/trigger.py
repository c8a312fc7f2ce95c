"""Starting a sync for the API: the account (and folder) must be the caller's, then the task is queued."""

from __future__ import annotations

from email_service.accounts.service import get_account
from email_service.core.db import session_scope
from email_service.core.tasking.records import record_task
from email_service.core.tasking.start import publish_recorded
from email_service.core.tenancy.tokens import Identity
from email_service.messages.folders import get_folder


def request_sync(caller: Identity, account_id: str, folder_id: str | None, force_full_sync: bool) -> str:
    """The new task's id; another user's account or folder is a 404."""
    tenant_id, user_id = caller.tenant_id, caller.user_id
    with session_scope(tenant_id) as session:
        account = get_account(session, account_id, tenant_id, user_id)
        if folder_id is not None:
            get_folder(session, folder_id, tenant_id, user_id, account_id=account.id)
        task_id = record_task(session, tenant_id, user_id, "sync_emails", account_id=account.id).task_id
    kwargs = {"email_client_id": account_id, "folder_id": folder_id, "force_full_sync": force_full_sync}
    return publish_recorded(caller, "sync_emails", task_id, kwargs)
