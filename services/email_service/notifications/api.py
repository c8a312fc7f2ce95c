"""POST /api/notifications/test: mail a test notification to the caller through the system relay."""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from email_service.core.config import get_settings
from email_service.core.db import session_scope
from email_service.core.errors import Conflict, NotFound, ValidationFailed
from email_service.core.tasking.launch import launch
from email_service.core.tenancy.user_model import User
from email_service.notifications.catalog import EmailTemplate
from email_service.notifications.mailer import relay_settings
from email_service.notifications.rules import is_undeliverable

bp = Blueprint("notifications", __name__, url_prefix="/api/notifications")
KIND = "send_notification"


@bp.post("/test")
def send_test() -> ResponseReturnValue:
    """202 with a task id; 409 without a relay, 422 when the caller's address would be skipped."""
    settings = get_settings()
    if relay_settings(settings) is None:
        raise Conflict("notifications are off: SMTP_HOST is not configured", {"setting": "SMTP_HOST"})
    with session_scope(g.tenant_id) as session:
        query = select(User.email).where(User.id == g.user_id, User.tenant_id == g.tenant_id)
        email = session.scalars(query).first()
    if email is None:
        raise NotFound("user not found")
    if is_undeliverable(email, settings.notification_skip_patterns):
        raise ValidationFailed(
            "your address is a placeholder or undeliverable; notifications to it are skipped",
            {"field": "email", "patterns": list(settings.notification_skip_patterns)},
        )
    kwargs = {"template": EmailTemplate.TEST_MESSAGE.value, "task_name": "notification_test"}
    task_id = launch(KIND, kwargs)
    return jsonify({"taskId": task_id, "status": "pending"}), 202
