"""POST /api/notifications/test's use case: check that a test mail could go out, then queue it."""

from __future__ import annotations

from sqlalchemy import select

from email_service.core.config import get_settings
from email_service.core.db import session_scope
from email_service.core.errors import Conflict, NotFound, ValidationFailed
from email_service.core.tasking.start import start_task
from email_service.core.tenancy.tokens import Identity
from email_service.core.tenancy.user_model import User
from email_service.notifications.catalog import EmailTemplate
from email_service.notifications.mailer import relay_settings
from email_service.notifications.rules import is_undeliverable

KIND = "send_notification"


def request_test_notification(caller: Identity) -> str:
    """The task id; 409 without a relay, 422 when the caller's address would be skipped."""
    settings = get_settings()
    if relay_settings(settings) is None:
        raise Conflict("notifications are off: SMTP_HOST is not configured", {"setting": "SMTP_HOST"})
    with session_scope(caller.tenant_id) as session:
        query = select(User.email).where(User.id == caller.user_id, User.tenant_id == caller.tenant_id)
        email = session.scalars(query).first()
    if email is None:
        raise NotFound("user not found")
    if is_undeliverable(email, settings.notification_skip_patterns):
        raise ValidationFailed(
            "your address is a placeholder or undeliverable; notifications to it are skipped",
            {"field": "email", "patterns": list(settings.notification_skip_patterns)},
        )
    kwargs = {"template": EmailTemplate.TEST_MESSAGE.value, "task_name": "notification_test"}
    return start_task(caller, KIND, kwargs)
