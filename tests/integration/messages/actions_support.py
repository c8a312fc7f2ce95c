"""Helpers for the write-back tests: run the task a request queued, read the server on its own connection."""

from __future__ import annotations

from typing import Any

from celery.result import EagerResult
from sqlalchemy import select

from email_service.core.db import session_scope
from email_service.messages.actions.model import MessageAction
from email_service.messages.actions.tasks import apply_flags, folder_action, move_emails
from tests.integration.sync.sync_support import SyncAccount, imap
from tests.servers.dovecot_fixtures import ImapUser

TASKS = {"flags": apply_flags, "move": move_emails}


def latest_batch(account: SyncAccount) -> tuple[str, str]:
    """(batch id, kind) of the caller's newest request: the task's only argument, as queued."""
    caller = account.caller
    with session_scope(caller.tenant_id) as session:
        query = (
            select(MessageAction.batch_id, MessageAction.kind)
            .where(MessageAction.tenant_id == caller.tenant_id, MessageAction.user_id == caller.user_id)
            .order_by(MessageAction.created_at.desc())
            .limit(1)
        )
        batch_id, kind = session.execute(query).one()
        return str(batch_id), str(kind)


def run_task(account: SyncAccount, task_id: str, batch: tuple[str, str] | None = None) -> EagerResult:
    """What the worker would run for the newest request, or for `batch` (eagerly, retries inline,
    outcome recorded)."""
    batch_id, kind = batch or latest_batch(account)
    task = TASKS.get(kind, folder_action)
    kwargs = {"batch_id": batch_id, "tenant_id": account.caller.tenant_id, "user_id": account.caller.user_id}
    return task.apply(kwargs=kwargs, task_id=task_id)


def actions(account: SyncAccount) -> list[MessageAction]:
    caller = account.caller
    with session_scope(caller.tenant_id) as session:
        query = select(MessageAction).where(MessageAction.tenant_id == caller.tenant_id)
        return list(session.scalars(query.order_by(MessageAction.created_at)))


def task_status(client: Any, account: SyncAccount, task_id: str) -> dict[str, Any]:
    response = client.get(f"/api/tasks/{task_id}", headers=account.caller.headers)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def server_flags(user: ImapUser, folder: str = "INBOX") -> dict[str, set[str]]:
    """{subject: flags} straight from Dovecot on a connection of its own."""
    client = imap(user)
    try:
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        if not uids:
            return {}
        data = client.fetch(uids, ["FLAGS", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
        out = {}
        for item in data.values():
            subject = item[b"BODY[HEADER.FIELDS (SUBJECT)]"].decode().strip().removeprefix("Subject: ")
            flags = {f.decode() if isinstance(f, bytes) else str(f) for f in item[b"FLAGS"]}
            out[subject] = flags - {"\\Recent"}
        return out
    finally:
        client.logout()


def server_uids(user: ImapUser, folder: str) -> tuple[int, dict[str, int]]:
    """(UIDVALIDITY, {subject: uid}) of a folder, from Dovecot directly."""
    client = imap(user)
    try:
        info = client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        data = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"]) if uids else {}
        by_subject = {
            item[b"BODY[HEADER.FIELDS (SUBJECT)]"].decode().strip().removeprefix("Subject: "): uid
            for uid, item in data.items()
        }
        return int(info[b"UIDVALIDITY"]), by_subject
    finally:
        client.logout()


def server_folders(user: ImapUser) -> set[str]:
    client = imap(user)
    try:
        return {str(name) for _flags, _delim, name in client.list_folders()}
    finally:
        client.logout()


def on_server(user: ImapUser, command: str, *args: str) -> None:
    """Change the mailbox behind the service's back (create_folder, delete_folder, ...)."""
    client = imap(user)
    try:
        getattr(client, command)(*args)
    finally:
        client.logout()
