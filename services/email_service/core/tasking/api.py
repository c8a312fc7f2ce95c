"""Task status for its owner only: GET/DELETE /api/tasks/<id>, GET /api/tasks."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue

from email_service.core.db import session_scope
from email_service.core.http.body import limit_arg
from email_service.core.tasking.outcomes import FINAL_STATUSES
from email_service.core.tasking.records import TaskRef, find_owned_task, get_task, list_tasks
from email_service.core.tasking.status import cancel_sync, get_task_status, revoke_task
from email_service.sending.outbox import cancel as cancel_send

bp = Blueprint("tasks", __name__, url_prefix="/api/tasks")


def _status(ref: TaskRef) -> dict[str, object]:
    """The recorded outcome of a finished task, else the result backend's live state and progress."""
    payload = _recorded(ref) if ref.status else get_task_status(ref.task_id)
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


@bp.get("/<task_id>")
def show(task_id: str) -> ResponseReturnValue:
    ref = find_owned_task(task_id, g.tenant_id, g.user_id)
    payload = _status(ref)
    if ref.status is None and payload["status"] in FINAL_STATUSES:
        # Finished since the ref was remembered: its record may say more (a cancelled sync's partial
        # result, which the result backend cannot hold).
        fresh = find_owned_task(task_id, g.tenant_id, g.user_id, fresh=True)
        if fresh.status is not None:
            payload = _status(fresh)
    return jsonify(payload)


@bp.delete("/<task_id>")
def cancel(task_id: str) -> ResponseReturnValue:
    with session_scope(g.tenant_id) as session:
        ref = get_task(session, task_id, g.tenant_id, g.user_id)
        if ref.kind == "send_email":
            # The outbox row is the truth for sends (another task's batch may pick a queued row up):
            # cancel it, or answer 409 when it is already being sent.
            cancel_send(session, ref.task_id, g.tenant_id, g.user_id)
    if ref.kind == "sync_emails":
        cancel_sync(ref.task_id)
    else:
        revoke_task(ref.task_id, terminate=True)
    return jsonify({"taskId": ref.task_id, "status": "revoked"}), 202


@bp.get("")
def index() -> ResponseReturnValue:
    limit = limit_arg(50, 200)
    kind = request.args.get("kind") or None
    with session_scope(g.tenant_id) as session:
        refs = list_tasks(session, g.tenant_id, g.user_id, limit, kind)
    return jsonify({"items": [_status(ref) for ref in refs]})
