"""Delete and restore for the API: rows are hidden in the request's transaction, the server side is a task."""

from __future__ import annotations

from collections.abc import Sequence

from email_service.core.tasking.start import start_task
from email_service.core.tenancy.tokens import Identity
from email_service.deletion.service import hide_for_request, undo_hide


def request_delete(caller: Identity, email_ids: Sequence[str], permanent: bool) -> str:
    """Hidden at once; when the queue is down the rows show again and the caller gets a 503."""
    tenant_id, user_id = caller.tenant_id, caller.user_id
    return start_task(
        caller,
        "delete_emails",
        {"email_ids": list(email_ids), "permanent": permanent},
        prepare=lambda session: hide_for_request(session, tenant_id, user_id, list(email_ids)),
        undo=lambda session, hidden: undo_hide(session, tenant_id, user_id, hidden),
    )


def request_restore(caller: Identity, email_ids: Sequence[str]) -> str:
    """Messages show again when the task has moved them back to their folder."""
    return start_task(caller, "restore_emails", {"email_ids": list(email_ids)})
