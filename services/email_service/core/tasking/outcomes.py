"""A finished task's outcome on its TaskRecord: the task API's answer once the result backend forgets it.

The result backend keeps a result for an hour (result_expires); the record keeps it as long as the
record lives (TASK_RECORD_RETENTION_DAYS). What is stored follows the rules for anything a task
reports: no field that could carry a secret or mail content, and a bounded size.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from email_service.core.db import session_scope
from email_service.core.model_base import utcnow
from email_service.core.tasking.model import TaskRecord
from email_service.events.log import append_changes
from email_service.events.model import TASK_COMPLETED
from email_service.notifications.rules import SENSITIVE_KEY, safe_result

log = logging.getLogger(__name__)
FINAL_STATUSES = frozenset({"success", "failed", "revoked"})
MAX_ERROR_CHARS = 500
MAX_RESULT_CHARS = 16_000
REVOKED_ERROR = {"type": "Revoked", "message": "task was cancelled"}


def error_payload(exc: BaseException | object) -> dict[str, str]:
    """{type, message} of an exception, as the task API shows it (the message bounded)."""
    return {"type": type(exc).__name__, "message": str(exc)[:MAX_ERROR_CHARS]}


def stored_result(result: Any) -> Any:
    """A JSON copy of a task result without secret- or content-looking fields, bounded in size.

    Only the result's own field names are judged (nested keys may be data, e.g. addresses); a result
    too large to keep whole shrinks to its status, counts and ids.
    """
    if result is None:
        return None
    if isinstance(result, Mapping):
        result = {k: v for k, v in result.items() if not (isinstance(k, str) and SENSITIVE_KEY.search(k))}
    text = json.dumps(result, default=str)
    if len(text) > MAX_RESULT_CHARS:
        return safe_result(result)
    return json.loads(text)


def record_outcome(
    tenant_id: str, task_id: str, status: str, result: Any = None, error: Mapping[str, str] | None = None
) -> bool:
    """Write the final status, result and error to the task's record; False when it has none."""
    with session_scope(tenant_id) as session:
        return record_outcome_in(session, tenant_id, task_id, status, result, error)


def record_outcome_in(
    session: Session,
    tenant_id: str,
    task_id: str,
    status: str,
    result: Any = None,
    error: Mapping[str, str] | None = None,
    first: bool = False,
) -> bool:
    """record_outcome inside the caller's transaction (a task that will never run, e.g. a
    cancelled scheduled send that was never published). first=True writes only a record without an
    outcome yet, so the caller learns whether it was the first to finish it."""
    if status not in FINAL_STATUSES:
        raise ValueError(f"not a final task status: {status!r}")
    now = utcnow()
    values = {
        "status": status,
        "result": stored_result(result),
        "error": dict(error) if error else None,
        "finished_at": now,
        "updated_at": now,
    }
    where = (TaskRecord.id == task_id, TaskRecord.tenant_id == tenant_id)
    # Locked (PostgreSQL) so that of two writers of the same outcome only the first tells of it.
    found = session.execute(
        select(TaskRecord.user_id, TaskRecord.kind, TaskRecord.account_id, TaskRecord.status)
        .where(*where)
        .with_for_update()
    ).first()
    if found is None or (first and found.status is not None):
        return False
    session.execute(update(TaskRecord).where(*where).values(**values))
    if found.status != status:  # task.completed once per final state, committed with it
        data = {"task_name": found.kind, "status": status}
        append_changes(session, (tenant_id, found.user_id), TASK_COMPLETED, found.account_id, [task_id], data)
    return True


def record_outcome_quietly(
    tenant_id: str | None, task_id: str | None, status: str, result: Any = None, error: Any = None
) -> None:
    """record_outcome for the worker's signal handlers: never fails the task it reports on."""
    if not tenant_id or not task_id:
        return  # system tasks (beat) have no record
    try:
        record_outcome(tenant_id, task_id, status, result, error)
    except Exception as exc:  # the database may be the very thing that failed the task
        log.warning("task outcome not recorded: %s", type(exc).__name__)
