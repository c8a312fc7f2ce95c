"""POST /api/email/delete and POST /api/email/restore: hide at once, then let a task act on the server."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from email_service.core.http.apidoc import documented
from email_service.core.http.auth import current_caller
from email_service.core.http.body import parse_body
from email_service.core.tasking.schemas import TaskAccepted
from email_service.deletion.schemas import DeleteRequest, RestoreRequest
from email_service.deletion.use_cases import request_delete, request_restore

bp = Blueprint("delete", __name__, url_prefix="/api/email")


@bp.post("/delete")
@documented(202, TaskAccepted, 422, tag="delete", json=DeleteRequest)
def delete() -> ResponseReturnValue:
    """Delete messages (soft by default: hidden at once, moved to Trash, restorable).

    permanent=true: UID EXPUNGE of exactly these messages, then purged; a message the server still
    holds afterwards is listed again and named in `failed`. Task result: {status, deleted_count,
    not_found, failed: [{id, reason}], permanent}. Ids of anyone else are accepted and ignored (the task
    reports them as not found).
    """
    body = parse_body(DeleteRequest)
    task_id = request_delete(current_caller(), body.email_ids, body.permanent)
    return jsonify({"taskId": task_id, "status": "pending"}), 202


@bp.post("/restore")
@documented(202, TaskAccepted, 422, tag="delete", json=RestoreRequest)
def restore() -> ResponseReturnValue:
    """Restore soft-deleted messages.

    Moves them back to the folder they came from (the Inbox if it is gone) and shows them again. Task
    result: {status, restored_count, not_found, failed: [{id, reason}]}.
    """
    task_id = request_restore(current_caller(), parse_body(RestoreRequest).email_ids)
    return jsonify({"taskId": task_id, "status": "pending"}), 202
