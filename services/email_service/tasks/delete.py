"""delete_emails task (queue delete). The delete use case lands with the delete issue."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from email_service.errors import PermanentError
from email_service.tasks.base import TenantTask


@shared_task(bind=True, base=TenantTask, name="email_service.tasks.delete_emails", max_retries=5)
def delete_emails(
    self: TenantTask, email_ids: list[str], tenant_id: str, user_id: str, permanent: bool = False
) -> dict[str, Any]:
    raise PermanentError("deleting is not available in this build")
