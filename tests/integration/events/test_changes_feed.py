"""The changes feed over HTTP, fed by real syncs against Dovecot (both backends).

A folder's first fill is history (one folder.changed), later mail is message.created per message;
flags changed and messages expunged on the server become message.updated / message.deleted; a
long-poll returns as soon as a change commits, holding no database connection while it waits.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import update

from email_service.core.db import get_engine, session_scope
from email_service.events.log import append_changes
from email_service.events.model import MESSAGE_UPDATED
from email_service.messages.folder_model import Folder
from email_service.sync.service import SyncAuthError
from tests.conftest import Caller
from tests.integration.deletion.delete_support import sync
from tests.integration.sync.sync_support import SyncAccount, imap, make_account, message, rows
from tests.servers.dovecot_fixtures import ImapUser


@pytest.fixture
def account(owner: Caller, imap_user: ImapUser) -> SyncAccount:
    imap_user.server.seed_maildir(imap_user.username, "INBOX", [message(i) for i in range(3)])
    return make_account(owner, imap_user)


def feed(client: Any, caller: Caller, **params: Any) -> dict[str, Any]:
    response = client.get("/api/changes", query_string=params, headers=caller.headers)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def cursor(client: Any, caller: Caller) -> str:
    response = client.get("/api/changes/cursor", headers=caller.headers)
    assert response.status_code == 200
    return str(response.get_json()["cursor"])


def test_syncs_append_creates_updates_and_deletes(
    client: Any, account: SyncAccount, owner: Caller, imap_user: ImapUser
) -> None:
    sync(account)
    first = feed(client, owner)["changes"]
    assert [c["type"] for c in first] == ["folder.changed"]  # history, not a burst of new mail
    assert first[0]["data"] == {"messages_added": 3} and first[0]["account_id"] == account.account_id
    start = cursor(client, owner)
    assert start == first[0]["id"]

    server = imap(imap_user)
    try:
        server.append("INBOX", message(3))
        server.append("INBOX", message(4))
        sync(account)
        created = feed(client, owner, since=start)
        by_uid = {row.uid: row.id for row in rows(account)}
        assert [c["type"] for c in created["changes"]] == ["message.created"] * 2
        assert [c["object_id"] for c in created["changes"]] == [by_uid[4], by_uid[5]]
        assert created["next_cursor"] == created["changes"][-1]["id"]

        server.select_folder("INBOX")
        server.add_flags([1], ["\\Seen"])
        server.delete_messages([2])
        server.expunge()
    finally:
        server.logout()
    sync(account)
    later = feed(client, owner, since=created["next_cursor"])["changes"]
    assert sorted((c["type"], c["object_id"]) for c in later) == sorted(
        [("message.updated", by_uid[1]), ("message.deleted", by_uid[2])]
    )
    assert feed(client, owner, since=later[-1]["id"]) == {"changes": [], "next_cursor": later[-1]["id"]}
    paged = feed(client, owner, since=start, limit=1)
    assert len(paged["changes"]) == 1 and paged["next_cursor"] == created["changes"][0]["id"]


def test_a_long_poll_wakes_on_commit_without_holding_a_connection(client: Any, owner: Caller) -> None:
    start = cursor(client, owner)
    checked_out: list[int] = []

    def change_later() -> None:
        time.sleep(0.8)
        checked_out.append(get_engine().pool.checkedout())  # the poll is waiting now
        with session_scope(owner.tenant_id) as session:
            append_changes(session, (owner.tenant_id, owner.user_id), MESSAGE_UPDATED, None, ["m-1"])

    writer = threading.Thread(target=change_later)
    began = time.monotonic()
    writer.start()
    page = feed(client, owner, since=start, wait=10)
    waited = time.monotonic() - began
    writer.join()
    assert [c["object_id"] for c in page["changes"]] == ["m-1"]
    assert 0.8 <= waited < 5, waited
    assert checked_out == [0]
    began = time.monotonic()
    assert feed(client, owner, since=page["next_cursor"], wait=1)["changes"] == []
    assert 1 <= time.monotonic() - began < 3


def test_each_caller_sees_only_their_own_changes(
    client: Any, owner: Caller, same_tenant_other_user: Caller, other_tenant: Caller
) -> None:
    with session_scope(owner.tenant_id) as session:
        append_changes(session, (owner.tenant_id, owner.user_id), MESSAGE_UPDATED, None, ["mine"])
    assert [c["object_id"] for c in feed(client, owner)["changes"]] == ["mine"]
    for stranger in (same_tenant_other_user, other_tenant):
        assert feed(client, stranger) == {"changes": [], "next_cursor": "0"}
        assert cursor(client, stranger) == "0"


@pytest.mark.parametrize(
    "params", [{"since": "abc"}, {"since": "-1"}, {"wait": "31"}, {"wait": "x"}, {"limit": "0"}]
)
def test_bad_parameters_are_400(client: Any, owner: Caller, params: dict[str, str]) -> None:
    response = client.get("/api/changes", query_string=params, headers=owner.headers)
    assert response.status_code == 400 and "error" in response.get_json()


def test_client_actions_are_changes_at_once(client: Any, account: SyncAccount, owner: Caller) -> None:
    """A PATCH of flags and a soft delete change rows in the request: the feed tells at once."""
    sync(account)
    start = cursor(client, owner)
    first, second = (row.id for row in rows(account)[:2])
    patched = client.patch(f"/api/email/messages/{first}", json={"is_read": True}, headers=owner.headers)
    assert patched.status_code == 200, patched.get_json()
    deleted = client.post("/api/email/delete", json={"email_ids": [second]}, headers=owner.headers)
    assert deleted.status_code == 202, deleted.get_json()
    changes = feed(client, owner, since=start)["changes"]
    assert [(c["type"], c["object_id"], c["account_id"]) for c in changes] == [
        ("message.updated", first, account.account_id),
        ("message.deleted", second, account.account_id),
    ]


def test_refused_credentials_are_one_account_auth_failed(
    client: Any, owner: Caller, imap_user: ImapUser
) -> None:
    wrong = make_account(owner, imap_user, password="not-the-password")
    for _ in range(2):
        with pytest.raises(SyncAuthError):
            sync(wrong)
    changes = feed(client, owner)["changes"]
    assert [(c["type"], c["object_id"], c["data"]) for c in changes] == [
        ("account.auth_failed", wrong.account_id, {"state": "auth_error"})
    ]


@pytest.mark.pg_only
def test_appending_never_deadlocks_with_row_locks(client: Any, account: SyncAccount, owner: Caller) -> None:
    """One transaction appends and then locks the folder row (as a sync batch moves its checkpoint);
    another locks the folder row and then appends (as a client action refreshes counts). The log's
    lock is taken at commit, after every row lock, so both commit (taken at append, they deadlocked)."""
    sync(account)
    folder_id = rows(account)[0].folder_id
    who = (owner.tenant_id, owner.user_id)
    first_appended, second_locked = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def touch(session: Any) -> None:
        session.execute(update(Folder).where(Folder.id == folder_id).values(unread_count=Folder.unread_count))

    def sync_like() -> None:
        try:
            with session_scope(owner.tenant_id) as session:
                append_changes(session, who, MESSAGE_UPDATED, account.account_id, ["from-sync"])
                first_appended.set()
                second_locked.wait(5)
                touch(session)  # waits for the other transaction's row lock
        except BaseException as exc:
            errors.append(exc)

    def action_like() -> None:
        try:
            first_appended.wait(5)
            with session_scope(owner.tenant_id) as session:
                touch(session)
                second_locked.set()
                time.sleep(0.3)  # the other one is now waiting for this row
                append_changes(session, who, MESSAGE_UPDATED, account.account_id, ["from-action"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sync_like), threading.Thread(target=action_like)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    changes = feed(client, owner)["changes"]
    assert [c["object_id"] for c in changes if c["type"] == "message.updated"] == ["from-action", "from-sync"]


def test_a_copy_of_a_mirrored_message_is_stored_but_not_new_mail(
    client: Any, account: SyncAccount, owner: Caller, imap_user: ImapUser
) -> None:
    """Another client files INBOX's message 0 in Archive too (same Message-ID): the Archive row is
    stored and announced with copy_of, and the sync counts it in messages_synced, not messages_new."""
    server = imap(imap_user)
    try:
        server.create_folder("Archive")
        sync(account)
        start = cursor(client, owner)
        server.append("Archive", message(0))  # a copy
        server.append("Archive", message(7))  # new mail
        server.append("Archive", message(7))  # the server holds it twice: one is new mail
        result = sync(account)
    finally:
        server.logout()
    assert (result.messages_synced, result.messages_new) == (3, 1)
    original = rows(account)[0]  # message 0, seeded first
    archive = rows(account, "Archive")
    assert len(archive) == 3
    changes = feed(client, owner, since=start)["changes"]
    assert sorted(c["object_id"] for c in changes) == sorted(row.id for row in archive)
    assert {c["type"] for c in changes} == {"message.created"}
    copies = {c["object_id"]: c["data"].get("copy_of") for c in changes}
    first_7 = archive[1].id
    assert copies == {archive[0].id: original.id, first_7: None, archive[2].id: first_7}
