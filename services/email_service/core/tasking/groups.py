"""A group of tasks (one sync per account) as the task API shows it: progress, then one outcome.

Members' outcomes are read from their records, else from the result backend: Celery stores a result
and counts it towards the chord before the task_success signal writes the record, so the summary
(the chord's callback) may run before the last member's record is filled in.
"""

from __future__ import annotations

from typing import Any

from email_service.core.db import session_scope
from email_service.core.tasking.outcomes import FINAL_STATUSES
from email_service.core.tasking.records import TaskRef, group_members
from email_service.core.tasking.status import get_task_status

GROUP_KIND = "sync_group"  # the one kind of group there is: a sync of all accounts
GROUP_FAILED = "GroupMemberFailed"


def member_status(ref: TaskRef) -> dict[str, Any]:
    """One member: its account, status, result and error (the record's once finished, else live)."""
    if ref.status is not None:
        status, result, error = ref.status, ref.result, ref.error
    else:
        live = get_task_status(ref.task_id)
        status, result, error = live["status"], live["result"], live["error"]
    return {
        "taskId": ref.task_id,
        "account_id": ref.account_id,
        "status": status,
        "result": result,
        "error": error,
    }


def members_of(tenant_id: str, user_id: str, group_id: str) -> list[dict[str, Any]]:
    with session_scope(tenant_id) as session:
        refs = group_members(session, tenant_id, user_id, group_id)
    return [member_status(ref) for ref in refs]


def progress(members: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts a frontend can draw a bar from, and each member's state."""
    finished = [m for m in members if m["status"] in FINAL_STATUSES]
    return {
        "total": len(members),
        "finished": len(finished),
        "succeeded": sum(1 for m in finished if m["status"] == "success"),
        "failed": sum(1 for m in finished if m["status"] != "success"),
        "members": members,
    }


def live_status(group_id: str, tenant_id: str, user_id: str) -> dict[str, Any]:
    """A running group: pending until a member starts, then running with its progress."""
    members = members_of(tenant_id, user_id, group_id)
    started = any(m["status"] != "pending" for m in members)
    return {
        "taskId": group_id,
        "status": "running" if started else "pending",
        "result": None,
        "error": None,
        "progress": progress(members),
    }


def outcome(members: list[dict[str, Any]]) -> tuple[str, dict[str, Any], dict[str, str] | None]:
    """The group's final status, result and error: success only when every member succeeded."""
    counts = progress(members)
    result = {key: value for key, value in counts.items() if key != "members"}
    for key in ("messages_synced", "messages_new"):
        counts_of = [m["result"].get(key) for m in members if isinstance(m["result"], dict)]
        result[key] = sum(int(n) for n in counts_of if isinstance(n, int))
    result["task_ids"] = [m["taskId"] for m in members]
    result["members"] = members
    if counts["failed"] or counts["finished"] < counts["total"]:
        message = f"{counts['failed']} of {counts['total']} tasks did not succeed"
        return "failed", {"status": "failed", **result}, {"type": GROUP_FAILED, "message": message}
    return "success", {"status": "success", **result}, None
