"""A permanent delete that leaves messages on the server lists them again (real Dovecot, the real API).

The API hides the messages at once; when the expunge is refused (no UIDPLUS and another client's
\\Deleted message in the folder) or fails for good, the rows come back and the folder counts follow,
so the listing keeps matching the server.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from email_service.accounts.model import EmailAccount
from email_service.core.db import session_scope
from email_service.deletion.service import delete_messages
from email_service.deletion.tasks import delete_emails
from tests.conftest import Caller
from tests.integration.deletion.delete_support import (
    NO_MOVE_NO_UIDPLUS,
    folder_id,
    ids_by_subject,
    rows_in,
    seeded_account,
    server_subjects,
)
from tests.integration.sync.sync_support import SyncAccount, imap, message
from tests.servers.dovecot import free_port
from tests.servers.dovecot_fixtures import DovecotFactory, ImapUser, new_user


def request_delete(client: Any, account: SyncAccount, ids: list[str], permanent: bool = True) -> str:
    """POST /api/email/delete as the owner; the rows are hidden by this request."""
    body = {"email_ids": ids, "permanent": permanent}
    response = client.post("/api/email/delete", json=body, headers=account.caller.headers)
    assert response.status_code == 202, response.get_json()
    return str(response.get_json()["taskId"])


def run_task(account: SyncAccount, ids: list[str], task_id: str, permanent: bool = True) -> dict[str, Any]:
    """What the worker would run for that request (eagerly, retries inline)."""
    caller = account.caller
    kwargs = {"email_ids": ids, "tenant_id": caller.tenant_id, "user_id": caller.user_id}
    return dict(delete_emails.apply(kwargs={**kwargs, "permanent": permanent}, task_id=task_id).get())


def listed(client: Any, account: SyncAccount, folder: str = "INBOX") -> list[str]:
    params = {"account_id": account.account_id, "folder_id": folder_id(account, folder), "limit": 100}
    response = client.get("/api/email/messages", query_string=params, headers=account.caller.headers)
    assert response.status_code == 200, response.get_json()
    return sorted(item["subject"] for item in response.get_json()["items"])


def folder_total(client: Any, account: SyncAccount, folder: str = "INBOX") -> int:
    response = client.get(f"/api/accounts/{account.account_id}/folders", headers=account.caller.headers)
    assert response.status_code == 200, response.get_json()
    return int(next(f["total_count"] for f in response.get_json()["items"] if f["name"] == folder))


def flag_deleted_elsewhere(user: ImapUser, subject: str) -> None:
    """Another mail client marks a message \\Deleted and leaves it for its own expunge."""
    other = imap(user)
    try:
        other.select_folder("INBOX")
        other.add_flags(other.search(["SUBJECT", subject]), [b"\\Deleted"])
    finally:
        other.logout()


def test_a_refused_expunge_lists_the_messages_again(
    client: Any, owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    user = new_user(dovecot_factory(capabilities=NO_MOVE_NO_UIDPLUS))
    account = seeded_account(owner, user, inbox=6)
    flag_deleted_elsewhere(user, "message 6")
    ids = ids_by_subject(account, "INBOX", "message 1", "message 2", "message 3")

    task_id = request_delete(client, account, ids)
    assert listed(client, account) == ["message 4", "message 5", "message 6"]  # hidden at once
    assert folder_total(client, account) == 3

    result = run_task(account, ids, task_id)
    assert result["status"] == "failed" and result["deleted_count"] == 0
    assert [f["id"] for f in result["failed"]] == sorted(ids)
    assert all("UIDPLUS" in f["reason"] and "\\Deleted" in f["reason"] for f in result["failed"])
    on_server = server_subjects(user, "INBOX")
    assert len(on_server) == 6 and server_subjects(user, "INBOX", "DELETED") == ["message 6"]
    assert listed(client, account) == on_server  # the listing matches the server again
    assert folder_total(client, account) == len(on_server)
    assert all(m.deleted_at is None and m.original_folder_id is None for m in rows_in(account, "INBOX"))


def test_an_imap_failure_lists_them_again_after_the_last_retry_not_before(
    client: Any, owner: Caller, imap_user: ImapUser
) -> None:
    account = seeded_account(owner, imap_user, inbox=4)
    ids = ids_by_subject(account, "INBOX", "message 1", "message 2")
    task_id = request_delete(client, account, ids)
    with session_scope(owner.tenant_id) as session:  # nothing listens there: connection refused
        session.execute(
            update(EmailAccount).where(EmailAccount.id == account.account_id).values(imap_port=free_port())
        )

    result = run_task(account, ids, task_id)  # every retry fails too; the last attempt reports
    assert result["status"] == "failed" and [f["id"] for f in result["failed"]] == sorted(ids)
    assert all("IMAP connection failed" in f["reason"] for f in result["failed"])
    assert listed(client, account) == server_subjects(imap_user, "INBOX")
    assert folder_total(client, account) == 4

    request_delete(client, account, ids)  # again; this time an attempt that will be retried
    outcome, _ = delete_messages(ids, owner.tenant_id, owner.user_id, permanent=True, final=False)
    assert outcome.retryable and set(outcome.failed) == set(ids)
    assert listed(client, account) == ["message 3", "message 4"]  # a retry follows: still hidden


def test_a_message_soft_deleted_before_stays_hidden_and_restorable(
    client: Any, owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    """Its state before the permanent request was hidden in Trash; a refusal keeps exactly that."""
    user = new_user(dovecot_factory(capabilities=NO_MOVE_NO_UIDPLUS))
    account = seeded_account(owner, user, inbox=2)
    ids = ids_by_subject(account, "INBOX", "message 1")
    soft = run_task(account, ids, request_delete(client, account, ids, permanent=False), permanent=False)
    assert soft["deleted_count"] == 1 and server_subjects(user, "Trash") == ["message 1"]
    user.server.append(user.username, "Trash", [message(70, "flagged elsewhere")], flags=["\\Deleted"])

    result = run_task(account, ids, request_delete(client, account, ids))
    assert result["status"] == "failed" and "UIDPLUS" in result["failed"][0]["reason"]
    (row,) = rows_in(account, "Trash")
    assert row.deleted_at is not None and row.original_folder_id == folder_id(account, "INBOX")
    assert listed(client, account, "Trash") == [] and listed(client, account) == ["message 2"]
