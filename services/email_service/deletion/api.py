"""POST /api/email/delete and POST /api/email/restore: hide at once, then let a task act on the server."""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue

from email_service.core.db import session_scope
from email_service.core.errors import ServiceUnavailable
from email_service.core.http.body import parse_body
from email_service.core.tasking.launch import launch
from email_service.core.tasking.records import record_task
from email_service.deletion.schemas import DeleteRequest, RestoreRequest
from email_service.deletion.service import hide_for_request, undo_hide

bp = Blueprint("delete", __name__, url_prefix="/api/email")


@bp.post("/delete")
def delete() -> ResponseReturnValue:
    """Ids of anyone else are accepted and ignored (the task reports them as not found)."""
    body = parse_body(DeleteRequest)
    with session_scope(g.tenant_id) as session:
        hidden = hide_for_request(session, g.tenant_id, g.user_id, body.email_ids)
        task_id = record_task(session, g.tenant_id, g.user_id, "delete_emails").task_id
    try:
        launch("delete_emails", {"email_ids": body.email_ids, "permanent": body.permanent}, task_id=task_id)
    except ServiceUnavailable:
        with session_scope(g.tenant_id) as session:
            undo_hide(session, g.tenant_id, g.user_id, hidden)
        raise
    return jsonify({"taskId": task_id, "status": "pending"}), 202


@bp.post("/restore")
def restore() -> ResponseReturnValue:
    """Messages show again when the task has moved them back to their folder."""
    body = parse_body(RestoreRequest)
    task_id = launch("restore_emails", {"email_ids": body.email_ids})
    return jsonify({"taskId": task_id, "status": "pending"}), 202
