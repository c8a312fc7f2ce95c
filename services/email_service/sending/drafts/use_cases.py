"""What the draft routes do: the local change and its action-log row in one transaction, then the
write-back task through start_task (a broker outage undoes both: 503)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from email_service.core.db import session_scope
from email_service.core.model_base import new_id
from email_service.core.tasking.start import start_task
from email_service.core.tenancy.tokens import Identity
from email_service.deletion.store import Owner
from email_service.messages.actions import log
from email_service.sending.drafts import store
from email_service.sending.drafts.model import Draft
from email_service.sending.drafts.writeback import DRAFT_DELETE, DRAFT_SAVE, log_action

TASK = "draft_action"


def _snapshot(draft: Draft) -> dict[str, Any]:
    """The row's columns, to put back when the task cannot be queued."""
    return {c.key: getattr(draft, c.key) for c in inspect(Draft).column_attrs}


def _restore(session: Session, snapshot: dict[str, Any]) -> None:
    row = session.get(Draft, snapshot["id"])
    if row is None:
        session.add(Draft(**snapshot))
        return
    for key, value in snapshot.items():
        setattr(row, key, value)


def create_draft(caller: Identity, request: dict[str, Any]) -> dict[str, Any]:
    """201 body: the draft as saved, plus the taskId that puts it into the server's Drafts."""
    batch_id = new_id()
    views: list[dict[str, Any]] = []

    def prepare(session: Session) -> str:
        draft = store.create(session, caller.tenant_id, caller.user_id, request)
        log_action(session, draft, batch_id, DRAFT_SAVE)
        views.append(store.view(draft))
        return draft.id

    def undo(session: Session, draft_id: str) -> None:
        log.drop_batch(session, _owner(caller), batch_id)
        row = session.get(Draft, draft_id)
        if row is not None:
            session.delete(row)

    task_id = start_task(caller, TASK, {"batch_id": batch_id}, request["email_client_id"], prepare, undo)
    return {**views[0], "taskId": task_id}


def replace_draft(caller: Identity, draft_id: str, request: dict[str, Any]) -> dict[str, Any]:
    batch_id = new_id()
    views: list[dict[str, Any]] = []

    def prepare(session: Session) -> dict[str, Any]:
        draft = store.editable(session, draft_id, caller.tenant_id, caller.user_id)
        before = _snapshot(draft)
        store.replace(session, draft, request)
        log_action(session, draft, batch_id, DRAFT_SAVE)
        views.append(store.full_view(session, draft))
        return before

    def undo(session: Session, before: dict[str, Any]) -> None:
        log.drop_batch(session, _owner(caller), batch_id)
        _restore(session, before)

    task_id = start_task(caller, TASK, {"batch_id": batch_id}, None, prepare, undo)
    return {**views[0], "taskId": task_id}


def delete_draft(caller: Identity, draft_id: str) -> str:
    """Gone locally at once (a sent draft too); the task removes its copy from the server."""
    batch_id = new_id()

    def prepare(session: Session) -> dict[str, Any]:
        draft = store.owned(session, draft_id, caller.tenant_id, caller.user_id, lock=True)
        before = _snapshot(draft)
        log_action(session, draft, batch_id, DRAFT_DELETE)
        session.delete(draft)
        return before

    def undo(session: Session, before: dict[str, Any]) -> None:
        log.drop_batch(session, _owner(caller), batch_id)
        _restore(session, before)

    return start_task(caller, TASK, {"batch_id": batch_id}, None, prepare, undo)


def draft_view(caller: Identity, draft_id: str) -> dict[str, Any]:
    with session_scope(caller.tenant_id) as session:
        return store.full_view(session, store.owned(session, draft_id, caller.tenant_id, caller.user_id))


def draft_page(caller: Identity, cursor: str | None, limit: int) -> store.DraftPage:
    with session_scope(caller.tenant_id) as session:
        return store.page(session, caller.tenant_id, caller.user_id, cursor, limit)


def _owner(caller: Identity) -> Owner:
    return Owner(caller.tenant_id, caller.user_id)
