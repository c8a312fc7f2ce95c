"""Start a task for the caller: record ownership, commit, then publish (never publish uncommitted work)."""

from __future__ import annotations

from typing import Any

from flask import g
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from email_service.core.db import session_scope
from email_service.core.errors import ServiceUnavailable
from email_service.core.tasking.records import forget_task, record_task
from email_service.core.tasking.status import task_launcher
from email_service.tasks.celery_app import TASK_PREFIX


def launch(
    kind: str,
    kwargs: dict[str, Any],
    account_id: str | None = None,
    task_id: str | None = None,
    **options: Any,
) -> str:
    """Returns the task id; a broker outage becomes a 503 and leaves no orphan record behind."""
    tenant_id, user_id = g.tenant_id, g.user_id
    if task_id is None:
        with session_scope(tenant_id) as session:
            task_id = record_task(session, tenant_id, user_id, kind, account_id=account_id).task_id
    try:
        task_launcher(TASK_PREFIX + kind, task_id, tenant_id, user_id, kwargs, **options)
    except (BrokerError, RedisError, OSError) as exc:
        with session_scope(tenant_id) as session:
            forget_task(session, task_id)
        raise ServiceUnavailable("task queue is unavailable, try again shortly") from exc
    return task_id
