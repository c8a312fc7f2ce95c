"""POST /api/notifications/test: mail a test notification to the caller through the system relay."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from email_service.core.http.apidoc import documented
from email_service.core.http.auth import current_caller
from email_service.core.http.rate_limits import named_limit
from email_service.core.tasking.schemas import TaskAccepted
from email_service.notifications.self_test import request_test_notification

bp = Blueprint("notifications", __name__, url_prefix="/api/notifications")


@bp.post("/test")
@documented(202, TaskAccepted, 404, 409, 422, tag="notifications")
@named_limit("notification_test")  # each one is a mail through the relay every tenant shares
def send_test() -> ResponseReturnValue:
    """Send a test notification to the caller's own address.

    Task result: {status: sent | skipped | failed, template, reason?}. 409 without a relay (SMTP_HOST
    not configured); 422 when the caller's address matches NOTIFICATION_SKIP_PATTERNS or is malformed.
    """
    return jsonify({"taskId": request_test_notification(current_caller()), "status": "pending"}), 202
