"""check_spam task (queue spam). The scorer lands with the spam issue."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from email_service.errors import PermanentError
from email_service.tasks.base import TenantTask


@shared_task(bind=True, base=TenantTask, name="email_service.tasks.check_spam", max_retries=3)
def check_spam(self: TenantTask, email_id: str, tenant_id: str, user_id: str) -> dict[str, Any]:
    raise PermanentError("spam scoring is not available in this build")
