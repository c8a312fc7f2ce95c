"""Helpers for the draft tests: save through the API, run the write-back the request queued, and read
the server's Drafts folder on a connection of its own."""

from __future__ import annotations

from typing import Any

from celery.result import EagerResult
from sqlalchemy import select

from email_service.core.db import session_scope
from email_service.messages.actions.model import MessageAction
from email_service.messages.folder_model import Folder
from email_service.messages.model import Message
from email_service.sending.drafts.tasks import draft_action
from tests.integration.sending.send_support import SendAccount
from tests.integration.sync.sync_support import imap
from tests.servers.dovecot_fixtures import ImapUser


def post_draft(client: Any, account: SendAccount, **fields: Any) -> Any:
    body = {"email_client_id": account.account_id, **fields}
    return client.post("/api/email/drafts", json=body, headers=account.caller.headers)


def put_draft(client: Any, account: SendAccount, draft_id: str, **fields: Any) -> Any:
    body = {"email_client_id": account.account_id, **fields}
    return client.put(f"/api/email/drafts/{draft_id}", json=body, headers=account.caller.headers)


def batches(account: SendAccount) -> list[str]:
    """Batch ids of the caller's draft write-backs, oldest first (the task's only argument)."""
    caller = account.caller
    with session_scope(caller.tenant_id) as session:
        query = (
            select(MessageAction.batch_id)
            .where(MessageAction.user_id == caller.user_id, MessageAction.kind.like("draft_%"))
            .order_by(MessageAction.created_at, MessageAction.id)
        )
        return [str(b) for b in session.scalars(query)]


def run_write_back(account: SendAccount, task_id: str, batch_id: str | None = None) -> EagerResult:
    """What the worker runs for the newest draft request (or `batch_id`), eagerly, outcome recorded."""
    kwargs = {
        "batch_id": batch_id or batches(account)[-1],
        "tenant_id": account.caller.tenant_id,
        "user_id": account.caller.user_id,
    }
    return draft_action.apply(kwargs=kwargs, task_id=task_id)


def server_drafts(user: ImapUser, folder: str = "Drafts") -> list[dict[str, Any]]:
    """[{uid, subject, message_id, flags}] of the folder, straight from Dovecot."""
    client = imap(user)
    try:
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        if not uids:
            return []
        wanted = "BODY.PEEK[HEADER.FIELDS (SUBJECT MESSAGE-ID BCC)]"
        out = []
        for uid, item in sorted(client.fetch(uids, ["FLAGS", wanted]).items()):
            headers = dict(
                line.split(": ", 1)
                for line in item[b"BODY[HEADER.FIELDS (SUBJECT MESSAGE-ID BCC)]"].decode().splitlines()
                if ": " in line
            )
            flags = {f.decode() if isinstance(f, bytes) else str(f) for f in item[b"FLAGS"]} - {"\\Recent"}
            out.append(
                {
                    "uid": uid,
                    "subject": headers.get("Subject"),
                    "message_id": headers.get("Message-ID"),
                    "bcc": headers.get("Bcc"),
                    "flags": flags,
                }
            )
        return out
    finally:
        client.logout()


def mirror_rows(account: SendAccount, folder: str = "Drafts") -> list[Message]:
    """The synced messages of a folder of the account."""
    with session_scope(account.caller.tenant_id) as session:
        query = (
            select(Message)
            .join(Folder, Folder.id == Message.folder_id)
            .where(Message.account_id == account.account_id, Folder.name == folder)
        )
        return list(session.scalars(query))


def task_status(client: Any, account: SendAccount, task_id: str) -> dict[str, Any]:
    response = client.get(f"/api/tasks/{task_id}", headers=account.caller.headers)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())
