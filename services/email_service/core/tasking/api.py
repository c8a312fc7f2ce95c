"""Task status for its owner only: GET/DELETE /api/tasks/<id>, GET /api/tasks."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from email_service.core.http.auth import current_caller
from email_service.core.http.body import limit_arg
from email_service.core.tasking import use_cases

bp = Blueprint("tasks", __name__, url_prefix="/api/tasks")


@bp.get("/<task_id>")
def show(task_id: str) -> ResponseReturnValue:
    return jsonify(use_cases.task_status(current_caller(), task_id))


@bp.delete("/<task_id>")
def cancel(task_id: str) -> ResponseReturnValue:
    return jsonify({"taskId": use_cases.cancel_task(current_caller(), task_id), "status": "revoked"}), 202


@bp.get("")
def index() -> ResponseReturnValue:
    limit = limit_arg(50, 200)
    kind = request.args.get("kind") or None
    return jsonify({"items": use_cases.task_list(current_caller(), limit, kind)})
