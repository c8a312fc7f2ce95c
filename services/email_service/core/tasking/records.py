"""Ownership of tasks: every task the API starts is recorded before it is published."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cachetools import TTLCache
from sqlalchemy.orm import Session

from email_service.core.db import fetch_one_scoped
from email_service.core.errors import NotFound
from email_service.core.model_base import new_id
from email_service.core.tasking.model import TaskRecord
from email_service.core.tenancy.scoping import get_owned, owned_row_query, scoped


@dataclass(frozen=True)
class TaskRef:
    """A recorded task; status, result and error are set once it finished (None while it runs)."""

    task_id: str
    kind: str
    account_id: str | None
    created_at: datetime
    status: str | None = None
    result: Any = None
    error: dict[str, str] | None = None


def record_task(
    session: Session,
    tenant_id: str,
    user_id: str,
    kind: str,
    account_id: str | None = None,
    task_id: str | None = None,
    idempotency_key: str | None = None,
    group_id: str | None = None,
) -> TaskRef:
    record = TaskRecord(
        id=task_id or new_id(),
        tenant_id=tenant_id,
        user_id=user_id,
        kind=kind,
        account_id=account_id,
        idempotency_key=idempotency_key,
        group_id=group_id,
    )
    session.add(record)
    session.flush()
    return _ref(record)


def get_task(session: Session, task_id: str, tenant_id: str, user_id: str) -> TaskRef:
    return _ref(get_owned(session, TaskRecord, task_id, tenant_id, user_id))


_OWNED_TASK = owned_row_query(
    TaskRecord,
    TaskRecord.id,
    TaskRecord.kind,
    TaskRecord.account_id,
    TaskRecord.created_at,
    TaskRecord.status,
    TaskRecord.result,
    TaskRecord.error,
    id_param="task_id",
)


# A record's owner never changes, so a polling client's ownership check is remembered briefly (per
# process, as the user check in api/auth.py): only a hit on the exact (task, tenant, user) that the
# scoped query confirmed. A record deleted meanwhile (retention, forget_task) answers 404 within this.
# A remembered ref's outcome may thus be up to that old: while it is unset, the poll reads the result
# backend, which holds the live state and, for an hour after the end, the outcome as well.
OWNED_TASK_TTL_SECONDS = 10.0
_owned_tasks: TTLCache[tuple[str, str, str], TaskRef] = TTLCache(10_000, OWNED_TASK_TTL_SECONDS)
_owned_lock = threading.Lock()  # cachetools caches are not thread-safe


def find_owned_task(task_id: str, tenant_id: str, user_id: str, fresh: bool = False) -> TaskRef:
    """get_task for the status poll, the API's hottest path: one round trip, or none when remembered.

    fresh=True skips the remembered ref (a poll that sees the task finished wants its recorded outcome).
    """
    key = (task_id, tenant_id, user_id)
    with _owned_lock:
        ref = None if fresh else _owned_tasks.get(key)
    if ref is None:
        params = {"task_id": task_id, "tenant_id": tenant_id, "user_id": user_id}
        row = fetch_one_scoped(tenant_id, _OWNED_TASK, params)
        if row is None:
            raise NotFound("TaskRecord not found", {"id": task_id})
        ref = TaskRef(*row)
        with _owned_lock:
            # Remembered even without its outcome (finished per the backend, not yet recorded): it is
            # as fresh as a lookup gets, and the next poll still asks fresh=True for the outcome, so
            # the ownership lookup before that is not repeated on every poll.
            _owned_tasks[key] = ref
    return ref


def forget_task(session: Session, task_id: str) -> None:
    """Drop a record whose task could not be published (broker down), so it never shows as pending."""
    record = session.get(TaskRecord, task_id)
    if record is not None:
        with _owned_lock:
            _owned_tasks.pop((task_id, record.tenant_id, record.user_id), None)
        session.delete(record)


def list_tasks(
    session: Session, tenant_id: str, user_id: str, limit: int = 50, kind: str | None = None
) -> list[TaskRef]:
    query = scoped(TaskRecord, tenant_id, user_id).order_by(
        TaskRecord.created_at.desc(), TaskRecord.id.desc()
    )
    if kind:
        query = query.where(TaskRecord.kind == kind)
    records: list[TaskRecord] = list(session.scalars(query.limit(limit)))
    return [_ref(r) for r in records]


def group_members(session: Session, tenant_id: str, user_id: str, group_id: str) -> list[TaskRef]:
    """The member tasks of a group (oldest record first)."""
    query = scoped(TaskRecord, tenant_id, user_id).where(TaskRecord.group_id == group_id)
    records: list[TaskRecord] = list(session.scalars(query.order_by(TaskRecord.created_at, TaskRecord.id)))
    return [_ref(r) for r in records]


def _ref(record: TaskRecord) -> TaskRef:
    return TaskRef(
        record.id,
        record.kind,
        record.account_id,
        record.created_at,
        record.status,
        record.result,
        record.error,
    )


__all__ = [
    "TaskRef",
    "find_owned_task",
    "forget_task",
    "get_task",
    "group_members",
    "list_tasks",
    "record_task",
]
