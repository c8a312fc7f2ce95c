"""POST /api/email/delete and POST /api/email/restore: hide at once, then let a task act on the server."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from email_service.core.http.auth import current_caller
from email_service.core.http.body import parse_body
from email_service.deletion.schemas import DeleteRequest, RestoreRequest
from email_service.deletion.use_cases import request_delete, request_restore

bp = Blueprint("delete", __name__, url_prefix="/api/email")


@bp.post("/delete")
def delete() -> ResponseReturnValue:
    """Ids of anyone else are accepted and ignored (the task reports them as not found)."""
    body = parse_body(DeleteRequest)
    task_id = request_delete(current_caller(), body.email_ids, body.permanent)
    return jsonify({"taskId": task_id, "status": "pending"}), 202


@bp.post("/restore")
def restore() -> ResponseReturnValue:
    task_id = request_restore(current_caller(), parse_body(RestoreRequest).email_ids)
    return jsonify({"taskId": task_id, "status": "pending"}), 202
