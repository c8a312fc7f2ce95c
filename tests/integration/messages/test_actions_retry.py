"""Write-backs when the server cannot be reached or refuses the login: transient failures retry with the
local change kept (pending), the last attempt reverts and says why; a refused login reverts at once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from email_service.accounts.model import EmailAccount
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.mail.imap.types import ImapConnectionError
from email_service.messages.actions.tasks import apply_flags
from tests.conftest import Caller
from tests.integration.deletion.delete_support import folder_id, ids_by_subject, rows_in, seeded_account, sync
from tests.integration.messages.actions_support import actions, run_task, server_flags, task_status
from tests.integration.sync.sync_support import SyncAccount
from tests.servers.dovecot import free_port
from tests.servers.dovecot_fixtures import ImapUser


def change_account(account: SyncAccount, **values: Any) -> None:
    with session_scope(account.caller.tenant_id) as session:
        session.execute(update(EmailAccount).where(EmailAccount.id == account.account_id).values(**values))


def mark_read(client: Any, account: SyncAccount, message_id: str) -> str:
    response = client.patch(
        f"/api/email/messages/{message_id}", json={"is_read": True}, headers=account.caller.headers
    )
    assert response.status_code == 200 and response.get_json()["is_read"] is True
    return str(response.get_json()["taskId"])


def test_unreachable_server_retries_then_reverts(
    client: Any, owner: Caller, imap_user: ImapUser, task_retries: list[BaseException]
) -> None:
    account = seeded_account(owner, imap_user)
    (first,) = ids_by_subject(account, "INBOX", "message 1")
    task_id = mark_read(client, account, first)
    port = imap_user.port
    change_account(account, imap_port=free_port())  # nothing listens there: connection refused

    assert run_task(account, task_id).state == "FAILURE"  # eager: the retries run inline
    assert len(task_retries) == apply_flags.max_retries
    assert all(isinstance(exc, ImapConnectionError) for exc in task_retries)
    (action,) = actions(account)
    assert action.state == "failed" and action.attempts == apply_flags.max_retries + 1
    assert "IMAP connection failed" in (action.reason or "")
    assert [m.is_read for m in rows_in(account, "INBOX") if m.id == first] == [False]
    assert "IMAP connection failed" in task_status(client, account, task_id)["error"]["message"]

    change_account(account, imap_port=port)
    assert server_flags(account.user)["message 1"] == set()
    sync(account)
    assert [m.is_read for m in rows_in(account, "INBOX") if m.id == first] == [False]


@pytest.mark.parametrize("what", ["flags", "move"])
def test_a_refused_login_reverts_without_retrying(
    client: Any, owner: Caller, imap_user: ImapUser, task_retries: list[BaseException], what: str
) -> None:
    account = seeded_account(owner, imap_user)
    (first,) = ids_by_subject(account, "INBOX", "message 1")
    if what == "flags":
        task_id = mark_read(client, account, first)
    else:
        body = {"email_ids": [first], "folder_id": folder_id(account, "Archive")}
        task_id = client.post("/api/email/move", json=body, headers=owner.headers).get_json()["taskId"]
    change_account(account, secret_ciphertext=get_secret_box().encrypt("wrong password", account.account_id))
    assert run_task(account, task_id).state == "FAILURE"
    assert task_retries == []
    (action,) = actions(account)
    assert action.state == "failed" and "login refused" in (action.reason or "")
    (row,) = [m for m in rows_in(account, "INBOX") if m.id == first]
    assert row.is_read is False and row.uidvalidity > 0
