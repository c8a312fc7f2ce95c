"""Every finished task's outcome onto its TaskRecord, from Celery's own signals.

task_success and task_failure fire in the pool process that ran the task (and task_failure in the
worker's main process for hard time limits, rejects and lost workers); task_revoked fires in the
main process for a task revoked before it ran or terminated while running. A retry is not an
outcome. The tenant comes from the task's kwargs (task_launcher always puts it there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from celery.signals import task_failure, task_revoked, task_success

from email_service.core.tasking.outcomes import REVOKED_ERROR, error_payload, record_outcome_quietly


def _tenant(kwargs: Mapping[str, Any] | None) -> str | None:
    value = (kwargs or {}).get("tenant_id")
    return value if isinstance(value, str) else None


@task_success.connect
def _record_success(sender: Any = None, result: Any = None, **_: Any) -> None:
    request = getattr(sender, "request", None)
    task_id, kwargs = getattr(request, "id", None), getattr(request, "kwargs", None)
    record_outcome_quietly(_tenant(kwargs), task_id, "success", result=result)


@task_failure.connect
def _record_failure(
    task_id: str | None = None, exception: Any = None, kwargs: Mapping[str, Any] | None = None, **_: Any
) -> None:
    record_outcome_quietly(_tenant(kwargs), task_id, "failed", error=error_payload(exception))


@task_revoked.connect
def _record_revoked(request: Any = None, **_: Any) -> None:
    task_id, kwargs = getattr(request, "id", None), getattr(request, "kwargs", None)
    record_outcome_quietly(_tenant(kwargs), task_id, "revoked", error=REVOKED_ERROR)
