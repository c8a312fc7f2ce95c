"""Soft delete and restore against real Dovecot, with and without MOVE and UIDPLUS, and sync afterwards."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from email_service.core.db import session_scope
from email_service.deletion.service import hide_for_request
from email_service.deletion.tasks import delete_emails, restore_emails
from email_service.events.model import Change
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
    visible_subjects,
)
from tests.integration.sync.sync_support import SyncAccount, imap
from tests.servers.dovecot_fixtures import DovecotFactory, ImapUser, new_user


def soft_delete(account: SyncAccount, ids: list[str]) -> dict:
    caller = account.caller
    return delete_emails.apply(
        kwargs={"email_ids": ids, "tenant_id": caller.tenant_id, "user_id": caller.user_id}
    ).get()


def restore(account: SyncAccount, ids: list[str]) -> dict:
    caller = account.caller
    return restore_emails.apply(
        kwargs={"email_ids": ids, "tenant_id": caller.tenant_id, "user_id": caller.user_id}
    ).get()


def assert_in_trash_and_stable(account: SyncAccount, subjects: list[str], inbox_left: list[str]) -> None:
    """Server and DB agree, and a sync afterwards neither resurrects nor duplicates anything."""
    assert server_subjects(account.user, "Trash") == sorted(subjects)
    assert server_subjects(account.user, "INBOX") == sorted(inbox_left)
    for _ in range(2):
        trash = rows_in(account, "Trash")
        assert sorted(m.subject for m in trash) == sorted(subjects)
        assert all(m.deleted_at is not None for m in trash)
        assert {m.original_folder_id for m in trash} == {folder_id(account, "INBOX")}
        assert sorted(visible_subjects(account, "INBOX")) == sorted(inbox_left)
        assert visible_subjects(account, "Trash") == []
        result = sync(account)
        assert result.messages_synced == 0 and result.messages_deleted == 0


def _told(owner: Caller, ids: list[str]) -> list[str]:
    """The change types logged for these messages, in order, the same for each of them."""
    with session_scope(owner.tenant_id) as session:
        rows = session.execute(select(Change.object_id, Change.type).order_by(Change.seq)).all()
    per_id = {i: [t for o, t in rows if o == i] for i in ids}
    assert len({tuple(types) for types in per_id.values()}) == 1, per_id
    return per_id[ids[0]]


@pytest.mark.parametrize("capabilities", [None, NO_MOVE, NO_MOVE_NO_UIDPLUS])
def test_soft_delete_moves_to_trash_and_restore_round_trips(
    owner: Caller, dovecot_factory: DovecotFactory, capabilities: str | None
) -> None:
    account = seeded_account(owner, new_user(dovecot_factory(capabilities=capabilities)))
    ids = ids_by_subject(account, "INBOX", "message 1", "message 3")

    result = soft_delete(account, ids)
    assert result == {
        "status": "success",
        "deleted_count": 2,
        "not_found": [],
        "failed": [],
        "permanent": False,
    }
    assert_in_trash_and_stable(account, ["message 1", "message 3"], ["message 2"])

    restored = restore(account, ids)
    assert restored == {"status": "success", "restored_count": 2, "not_found": [], "failed": []}
    assert server_subjects(account.user, "Trash") == []
    assert server_subjects(account.user, "INBOX") == ["message 1", "message 2", "message 3"]
    assert _told(owner, ids) == ["message.deleted", "message.created"]  # the feed has them back
    result = sync(account)
    assert result.messages_synced == 0 and result.messages_deleted == 0
    inbox = rows_in(account, "INBOX")
    assert [m.subject for m in inbox if m.deleted_at is None] == ["message 2", "message 1", "message 3"]
    assert sorted(m.id for m in inbox) == sorted([*ids, ids_by_subject(account, "INBOX", "message 2")[0]])
    assert rows_in(account, "Trash") == []


def test_soft_delete_without_move_keeps_other_deleted_messages(
    owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    account = seeded_account(owner, new_user(dovecot_factory(capabilities=NO_MOVE)), deleted_extra=True)
    result = soft_delete(account, ids_by_subject(account, "INBOX", "message 2"))
    assert result["deleted_count"] == 1
    assert server_subjects(account.user, "INBOX", "DELETED") == ["flagged elsewhere"]  # UID EXPUNGE, not bare


def test_without_move_or_uidplus_refuses_when_others_are_deleted(
    owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    server = dovecot_factory(capabilities=NO_MOVE_NO_UIDPLUS)
    account = seeded_account(owner, new_user(server), deleted_extra=True)
    [target] = ids_by_subject(account, "INBOX", "message 2")
    result = soft_delete(account, [target])
    assert result["status"] == "failed" and result["deleted_count"] == 0
    assert [f["id"] for f in result["failed"]] == [target] and "UIDPLUS" in result["failed"][0]["reason"]
    assert "flagged elsewhere" in server_subjects(account.user, "INBOX")
    assert server_subjects(account.user, "Trash") == []


def test_idempotent_already_in_trash_and_gone_on_server(owner: Caller, imap_user: ImapUser) -> None:
    account = seeded_account(owner, imap_user, inbox=4)
    ids = ids_by_subject(account, "INBOX", "message 1", "message 2")
    soft_delete(account, ids)
    again = soft_delete(account, ids)  # now in Trash: stays there, still hidden
    assert again["status"] == "success" and again["deleted_count"] == 2
    assert_in_trash_and_stable(account, ["message 1", "message 2"], ["message 3", "message 4"])

    [gone] = ids_by_subject(account, "INBOX", "message 3")
    client = imap(imap_user)  # someone else deletes it while our task is queued
    client.select_folder("INBOX")
    client.delete_messages(client.search(["SUBJECT", "message 3"]))
    client.expunge()
    client.logout()
    result = soft_delete(account, [gone, "no-such-id"])
    assert result["deleted_count"] == 1 and result["not_found"] == ["no-such-id"]
    assert "message 3" not in [m.subject for m in rows_in(account, "INBOX") + rows_in(account, "Trash")]


def test_moved_by_an_earlier_attempt_is_found_by_message_id(owner: Caller, imap_user: ImapUser) -> None:
    """A crash after MOVE but before the DB commit: the rerun finds the message in Trash."""
    account = seeded_account(owner, imap_user)
    [target] = ids_by_subject(account, "INBOX", "message 2")
    client = imap(imap_user)
    client.select_folder("INBOX")
    client.move(client.search(["SUBJECT", "message 2"]), "Trash")
    client.logout()
    assert soft_delete(account, [target])["deleted_count"] == 1
    assert [(m.id, m.subject) for m in rows_in(account, "Trash")] == [(target, "message 2")]
    assert sync(account).messages_synced == 0


def test_foreign_ids_are_not_found_and_untouched(
    owner: Caller, other_tenant: Caller, imap_user: ImapUser
) -> None:
    account = seeded_account(owner, imap_user)
    ids = ids_by_subject(account, "INBOX", "message 1")
    stranger = SyncAccount(other_tenant, imap_user, account.account_id)
    assert soft_delete(stranger, ids) == {
        "status": "success",
        "deleted_count": 0,
        "not_found": ids,
        "failed": [],
        "permanent": False,
    }
    assert restore(stranger, ids)["not_found"] == ids
    assert server_subjects(imap_user, "INBOX") == ["message 1", "message 2", "message 3"]
    assert all(m.deleted_at is None for m in rows_in(account, "INBOX"))


def test_a_sync_between_move_and_repoint_leaves_no_duplicate(owner: Caller, imap_user: ImapUser) -> None:
    """The server move landed and a sync mirrored it into Trash before the task re-pointed our row."""
    account = seeded_account(owner, imap_user)
    [target] = ids_by_subject(account, "INBOX", "message 1")
    with session_scope(owner.tenant_id) as session:
        hide_for_request(session, owner.tenant_id, owner.user_id, [target])
    client = imap(imap_user)
    client.select_folder("INBOX")
    client.move(client.search(["SUBJECT", "message 1"]), "Trash")
    client.logout()
    sync(account)
    assert [m.deleted_at is None for m in rows_in(account, "Trash")] == [True]  # the sync's visible twin

    assert soft_delete(account, [target])["deleted_count"] == 1
    assert [(m.id, m.deleted_at is not None) for m in rows_in(account, "Trash")] == [(target, True)]
    assert sync(account).messages_synced == 0
