"""POST /api/email/move against real Dovecot (MOVE, COPY + UID EXPUNGE, and neither MOVE nor UIDPLUS): the
rows show the target at once, a sync before the task neither duplicates nor drops them, then they carry
their new UIDs; a move to a folder deleted behind our back fails, puts the rows back and says why."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Caller
from tests.integration.deletion.delete_support import (
    NO_MOVE,
    NO_MOVE_NO_UIDPLUS,
    folder_id,
    ids_by_subject,
    rows_in,
    seeded_account,
    server_subjects,
    sync,
)
from tests.integration.messages.actions_support import actions, on_server, run_task, server_uids, task_status
from tests.integration.sync.sync_support import SyncAccount, imap
from tests.servers.dovecot_fixtures import DovecotFactory, new_user


def listed(client: Any, account: SyncAccount, folder: str) -> list[str]:
    params = {"account_id": account.account_id, "folder_id": folder_id(account, folder), "limit": 100}
    response = client.get("/api/email/messages", query_string=params, headers=account.caller.headers)
    assert response.status_code == 200, response.get_json()
    return sorted(item["subject"] for item in response.get_json()["items"])


def move(client: Any, account: SyncAccount, ids: list[str], folder: str) -> str:
    body = {"email_ids": ids, "folder_id": folder_id(account, folder)}
    response = client.post("/api/email/move", json=body, headers=account.caller.headers)
    assert response.status_code == 202, response.get_json()
    return str(response.get_json()["taskId"])


def assert_stable(client: Any, account: SyncAccount, inbox: list[str], archive: list[str]) -> None:
    """The listing matches, and a sync neither brings anything in nor drops anything."""
    for _ in range(2):
        assert listed(client, account, "INBOX") == inbox
        assert listed(client, account, "Archive") == archive
        assert len(rows_in(account, "INBOX")) + len(rows_in(account, "Archive")) == len(inbox) + len(archive)
        result = sync(account)
        assert result.messages_synced == 0 and result.messages_deleted == 0


@pytest.mark.parametrize("capabilities", [None, NO_MOVE, NO_MOVE_NO_UIDPLUS])
def test_move_shows_at_once_survives_a_sync_and_follows_the_new_uids(
    client: Any, owner: Caller, dovecot_factory: DovecotFactory, capabilities: str | None
) -> None:
    account = seeded_account(owner, new_user(dovecot_factory(capabilities=capabilities)))
    ids = ids_by_subject(account, "INBOX", "message 1", "message 3")
    task_id = move(client, account, ids, "Archive")
    assert listed(client, account, "Archive") == ["message 1", "message 3"]
    assert listed(client, account, "INBOX") == ["message 2"]

    assert_stable(client, account, ["message 2"], ["message 1", "message 3"])  # the server has not moved yet
    assert server_subjects(account.user, "INBOX") == ["message 1", "message 2", "message 3"]
    raw = client.get(f"/api/email/messages/{ids[0]}/raw", headers=owner.headers)
    assert raw.status_code == 200 and b"Subject: message 1" in raw.data  # still found where it is

    assert run_task(account, task_id).get()["status"] == "success"
    assert server_subjects(account.user, "INBOX") == ["message 2"]
    assert server_subjects(account.user, "Archive") == ["message 1", "message 3"]
    validity, uids = server_uids(account.user, "Archive")
    moved = {m.subject: (m.uidvalidity, m.uid) for m in rows_in(account, "Archive")}
    assert moved == {s: (validity, uids[s]) for s in ("message 1", "message 3")}
    assert sorted(m.id for m in rows_in(account, "Archive")) == sorted(ids)
    status = task_status(client, account, task_id)
    assert status["status"] == "success"
    assert status["result"]["done_count"] == 2 and status["result"]["folder_id"] == folder_id(
        account, "Archive"
    )
    assert [a.state for a in actions(account)] == ["done", "done"]
    assert_stable(client, account, ["message 2"], ["message 1", "message 3"])

    run_task(account, task_id).get()  # a redelivery finds nothing pending: nothing moves twice
    assert server_subjects(account.user, "Archive") == ["message 1", "message 3"]


def test_a_retry_after_the_server_moved_finds_the_messages_by_message_id(
    client: Any, owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    """The worker died after MOVE, before the rows followed: the next run finds them in the target."""
    account = seeded_account(owner, new_user(dovecot_factory()))
    ids = ids_by_subject(account, "INBOX", "message 2")
    task_id = move(client, account, ids, "Archive")
    conn = imap(account.user)
    try:
        conn.select_folder("INBOX")
        conn.move(conn.search(["HEADER", "Message-ID", "<msg2@example.test>"]), "Archive")
    finally:
        conn.logout()
    sync(account)  # sees the message in Archive already: the pending row must not be duplicated
    assert run_task(account, task_id).get()["status"] == "success"
    validity, uids = server_uids(account.user, "Archive")
    assert [(m.id, m.uidvalidity, m.uid) for m in rows_in(account, "Archive")] == [
        (ids[0], validity, uids["message 2"])
    ]
    assert server_subjects(account.user, "INBOX") == ["message 1", "message 3"]
    assert_stable(client, account, ["message 1", "message 3"], ["message 2"])


def test_a_move_to_a_folder_deleted_behind_our_back_fails_and_puts_the_rows_back(
    client: Any, owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    user = new_user(dovecot_factory())
    account = seeded_account(owner, user)
    on_server(user, "create_folder", "Work")
    sync(account)
    ids = ids_by_subject(account, "INBOX", "message 1")
    before = {(m.id, m.uidvalidity, m.uid) for m in rows_in(account, "INBOX")}
    task_id = move(client, account, ids, "Work")
    assert listed(client, account, "Work") == ["message 1"]
    on_server(user, "delete_folder", "Work")

    assert run_task(account, task_id).state == "FAILURE"
    status = task_status(client, account, task_id)
    assert status["status"] == "failed" and "Work" in status["error"]["message"]
    assert {(m.id, m.uidvalidity, m.uid) for m in rows_in(account, "INBOX")} == before
    assert listed(client, account, "INBOX") == ["message 1", "message 2", "message 3"]
    (action,) = actions(account)
    assert action.state == "failed" and "Work" in (action.reason or "")
    assert server_subjects(user, "INBOX") == ["message 1", "message 2", "message 3"]
    result = sync(account)
    assert result.messages_synced == 0 and result.messages_deleted == 0
    assert listed(client, account, "INBOX") == ["message 1", "message 2", "message 3"]
