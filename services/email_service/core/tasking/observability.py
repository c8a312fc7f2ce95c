"""Worker-side context and counters from Celery's own signals, so they cover Celery's log lines too.

task_prerun/task_postrun bracket the whole execution in the child process, including Celery's
"Task … succeeded/failed/retry" lines that run outside TenantTask.__call__, so those carry tenant,
user, task and account as well. Outcome signals feed the Redis-backed counters of worker_metrics.
"""

from __future__ import annotations

from contextvars import Token
from typing import Any

from celery.signals import task_failure, task_postrun, task_prerun, task_retry, task_revoked, task_success

from email_service.core.logging_setup import pop_context, push_context
from email_service.ops import worker_metrics

_tokens: dict[str, Token[dict[str, Any] | None]] = {}


def _header(task: Any, name: str) -> Any:
    """Context from the message headers (task_launcher sets tenant_id/user_id there)."""
    return getattr(task.request, name, None)


@task_prerun.connect
def _bind_task_context(task_id: str = "", task: Any = None, kwargs: Any = None, **_: Any) -> None:
    kwargs = kwargs or {}
    _tokens[task_id] = push_context(
        tenant_id=kwargs.get("tenant_id") or _header(task, "tenant_id"),
        user_id=kwargs.get("user_id") or _header(task, "user_id"),
        account_id=kwargs.get("email_client_id"),
        task_id=task_id,
        task_name=getattr(task, "name", None),
    )


@task_postrun.connect
def _drop_task_context(task_id: str = "", **_: Any) -> None:
    token = _tokens.pop(task_id, None)
    if token is not None:
        pop_context(token)


@task_success.connect
def _on_success(sender: Any = None, result: Any = None, **_: Any) -> None:
    worker_metrics.task_finished(getattr(sender, "name", "unknown"), "success", result)


@task_failure.connect
def _on_failure(sender: Any = None, **_: Any) -> None:
    worker_metrics.task_finished(getattr(sender, "name", "unknown"), "failure", None)


@task_retry.connect
def _on_retry(sender: Any = None, **_: Any) -> None:
    worker_metrics.task_finished(getattr(sender, "name", "unknown"), "retry", None)


@task_revoked.connect
def _on_revoked(sender: Any = None, **_: Any) -> None:
    worker_metrics.task_finished(getattr(sender, "name", "unknown"), "revoked", None)
