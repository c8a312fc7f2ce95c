"""send_email task (queue send). The outbox use case lands with the send issue."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from email_service.errors import PermanentError
from email_service.tasks.base import TenantTask


@shared_task(bind=True, base=TenantTask, name="email_service.tasks.send_email", max_retries=3)
def send_email(
    self: TenantTask,
    email_client_id: str,
    tenant_id: str,
    user_id: str,
    to: list[str],
    cc: list[str] | None = None,
    bcc: list[str] | None = None,
    subject: str = "",
    body_text: str = "",
    body_html: str | None = None,
    attachment_ids: list[str] | None = None,
) -> dict[str, Any]:
    raise PermanentError("sending is not available in this build")
