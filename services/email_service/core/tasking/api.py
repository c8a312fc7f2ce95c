"""Task status for its owner only: GET/DELETE /api/tasks/<id>, GET /api/tasks."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from email_service.core.http.apidoc import documented
from email_service.core.http.auth import current_caller
from email_service.core.http.body import limit_arg
from email_service.core.tasking import use_cases
from email_service.core.tasking.schemas import TaskList, TaskListQuery, TaskRevoked, TaskStatus

bp = Blueprint("tasks", __name__, url_prefix="/api/tasks")


@bp.get("/<task_id>")
@documented(200, TaskStatus, 404, tag="tasks")
def show(task_id: str) -> ResponseReturnValue:
    """One task's status, result, error and progress (the owner's only: 404 otherwise)."""
    return jsonify(use_cases.task_status(current_caller(), task_id))


@bp.delete("/<task_id>")
@documented(202, TaskRevoked, 404, 409, tag="tasks")
def cancel(task_id: str) -> ResponseReturnValue:
    """Revoke a task: a sync stops at its next batch, a send is cancelled (409 once sending)."""
    return jsonify({"taskId": use_cases.cancel_task(current_caller(), task_id), "status": "revoked"}), 202


@bp.get("")
@documented(200, TaskList, tag="tasks", query=TaskListQuery)
def index() -> ResponseReturnValue:
    """The caller's tasks, newest first."""
    limit = limit_arg(50, 200)
    kind = request.args.get("kind") or None
    return jsonify({"items": use_cases.task_list(current_caller(), limit, kind)})
