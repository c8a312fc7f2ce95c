"""The tasks API's use cases: a task's status for its owner, cancel, the caller's list."""

from __future__ import annotations

from email_service.core.db import session_scope
from email_service.core.tasking.groups import GROUP_KIND, live_status
from email_service.core.tasking.outcomes import FINAL_STATUSES
from email_service.core.tasking.records import TaskRef, find_owned_task, get_task, group_members, list_tasks
from email_service.core.tasking.status import cancel_sync, get_task_status, revoke_task
from email_service.core.tenancy.tokens import Identity


def _status(ref: TaskRef, caller: Identity) -> dict[str, object]:
    """The recorded outcome of a finished task, else the result backend's live state and progress
    (a group's: its members' states)."""
    if ref.status:
        payload = _recorded(ref)
    elif ref.kind == GROUP_KIND:
        payload = live_status(ref.task_id, caller.tenant_id, caller.user_id)
    else:
        payload = get_task_status(ref.task_id)
    payload["kind"] = ref.kind
    payload["createdAt"] = ref.created_at.isoformat()
    return payload


def _recorded(ref: TaskRef) -> dict[str, object]:
    return {
        "taskId": ref.task_id,
        "status": ref.status,
        "result": ref.result,
        "error": ref.error,
        "progress": None,
    }


def task_status(caller: Identity, task_id: str) -> dict[str, object]:
    ref = find_owned_task(task_id, caller.tenant_id, caller.user_id)
    payload = _status(ref, caller)
    if ref.status is None and payload["status"] in FINAL_STATUSES:
        # Finished since the ref was remembered: its record may say more (a cancelled sync's partial
        # result, which the result backend cannot hold).
        fresh = find_owned_task(task_id, caller.tenant_id, caller.user_id, fresh=True)
        if fresh.status is not None:
            payload = _status(fresh, caller)
    return payload


def cancel_task(caller: Identity, task_id: str) -> str:
    """A send is cancelled on its outbox row (409 once it is being sent); a sync stops cooperatively."""
    from email_service.sending.outbox import cancel as cancel_send  # the one kind with its own state

    with session_scope(caller.tenant_id) as session:
        ref = get_task(session, task_id, caller.tenant_id, caller.user_id)
        if ref.kind == "send_email":
            # The outbox row is the truth for sends (another task's batch may pick a queued row up).
            cancel_send(session, ref.task_id, caller.tenant_id, caller.user_id)
        members = group_members(session, caller.tenant_id, caller.user_id, ref.task_id)
    if ref.kind == GROUP_KIND:  # each account's sync stops; the summary then reports them revoked
        for member in members:
            cancel_sync(member.task_id)
    elif ref.kind == "sync_emails":
        cancel_sync(ref.task_id)
    else:
        revoke_task(ref.task_id, terminate=True)
    return ref.task_id


def task_list(caller: Identity, limit: int, kind: str | None) -> list[dict[str, object]]:
    with session_scope(caller.tenant_id) as session:
        refs = list_tasks(session, caller.tenant_id, caller.user_id, limit, kind)
    return [_status(ref, caller) for ref in refs]
