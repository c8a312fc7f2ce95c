"""POST /api/notifications/test: mail a test notification to the caller through the system relay."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from email_service.core.http.auth import current_caller
from email_service.notifications.self_test import request_test_notification

bp = Blueprint("notifications", __name__, url_prefix="/api/notifications")


@bp.post("/test")
def send_test() -> ResponseReturnValue:
    """202 with a task id; 409 without a relay, 422 when the caller's address would be skipped."""
    return jsonify({"taskId": request_test_notification(current_caller()), "status": "pending"}), 202
