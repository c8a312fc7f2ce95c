"""The sync use case against real Dovecot and PostgreSQL: initial, new mail, flags, expunges, UIDVALIDITY."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.exc import NoResultFound

from email_service.core.errors import TaskUnauthorized
from email_service.sync.plan import SyncOptions
from email_service.sync.service import run_account_sync
from tests.conftest import Caller
from tests.integration.sync.sync_support import (
    SyncAccount,
    folder_row,
    imap,
    make_account,
    message,
    rows,
    summary,
    uids,
)
from tests.servers.dovecot_fixtures import ImapUser


@pytest.fixture
def account(owner: Caller, imap_user: ImapUser) -> SyncAccount:
    return make_account(owner, imap_user)


def sync(account: SyncAccount, **kwargs: object) -> object:
    return run_account_sync(*account.ids, **kwargs)  # type: ignore[arg-type]


def test_initial_sync_discovers_folders_and_stores_messages(account: SyncAccount) -> None:
    account.user.server.append(account.user.username, "INBOX", [message(i) for i in range(1, 6)])
    account.user.server.append(account.user.username, "Sent", [message(9)], flags=["\\Seen"])
    result = sync(account)
    assert result.status == "success"  # type: ignore[attr-defined]
    assert summary(result) == (6, 0, 0)
    inbox = rows(account)
    assert [m.subject for m in inbox] == [f"message {i}" for i in range(1, 6)]
    first = inbox[0]
    assert first.from_name == "Sender 1" and first.from_address == "sender1@example.test"
    assert first.to_addresses[0] == {"name": "Someone", "email": "someone@example.test"}
    assert first.message_id_header and first.thread_id and first.snippet.startswith("Hello number 1")
    assert first.date_sort is not None and not first.is_read and first.parse_error is None
    sent = rows(account, "Sent")
    assert len(sent) == 1 and sent[0].is_read and sent[0].flags == ["\\Seen"]
    inbox_folder = folder_row(account)
    assert inbox_folder.role == "inbox" and inbox_folder.total_count == 5 and inbox_folder.unread_count == 5
    assert folder_row(account, "Sent").role == "sent"
    assert inbox_folder.synced_uid == 5 and inbox_folder.highestmodseq


def test_nothing_changed_then_new_mail(account: SyncAccount) -> None:
    server, user = account.user.server, account.user.username
    server.append(user, "INBOX", [message(i) for i in range(1, 4)])
    assert summary(sync(account)) == (3, 0, 0)
    again = sync(account)
    assert summary(again) == (0, 0, 0) and again.folders_synced == 0  # type: ignore[attr-defined]
    server.append(user, "INBOX", [message(i) for i in range(4, 8)])
    assert summary(sync(account)) == (4, 0, 0)
    assert uids(account) == list(range(1, 8))
    assert folder_row(account).total_count == 7


def test_batches_checkpoint_and_progress(account: SyncAccount) -> None:
    account.user.server.append(account.user.username, "INBOX", [message(i) for i in range(1, 12)])
    seen: list[dict[str, object]] = []
    result = sync(account, options=SyncOptions(batch_size=4), progress=seen.append)
    assert summary(result) == (11, 0, 0)
    inbox_progress = [(p["done"], p["total"]) for p in seen if p["folder"] == "INBOX"]
    assert inbox_progress == [(4, 11), (8, 11), (11, 11)]


def test_parse_worker_pool_keeps_order_and_checkpoints(account: SyncAccount) -> None:
    account.user.server.seed_maildir(account.user.username, "INBOX", [message(i) for i in range(1, 32)])
    seen: list[dict[str, object]] = []
    result = sync(account, options=SyncOptions(batch_size=10, parse_workers=2), progress=seen.append)
    assert summary(result) == (31, 0, 0)
    assert [p["done"] for p in seen if p["folder"] == "INBOX"] == [10, 20, 30, 31]
    assert [m.subject for m in rows(account)] == [f"message {i}" for i in range(1, 32)]
    assert folder_row(account).synced_uid == 31


def test_flag_changes_on_server(account: SyncAccount) -> None:
    account.user.server.append(account.user.username, "INBOX", [message(i) for i in range(1, 6)])
    sync(account)
    with imap(account.user) as client:
        client.select_folder("INBOX")
        client.add_flags([1, 2], ["\\Seen"])
        client.add_flags([3], ["\\Flagged", "$Label1"])
    result = sync(account)
    assert summary(result) == (0, 3, 0)
    by_uid = {m.uid: m for m in rows(account)}
    assert by_uid[1].is_read and by_uid[2].is_read and not by_uid[4].is_read
    assert by_uid[3].is_flagged and "$Label1" in by_uid[3].flags
    assert folder_row(account).unread_count == 3


def test_expunges_are_removed(account: SyncAccount) -> None:
    account.user.server.append(account.user.username, "INBOX", [message(i) for i in range(1, 6)])
    sync(account)
    with imap(account.user) as client:
        client.select_folder("INBOX")
        client.delete_messages([2, 4])
        client.expunge()
    result = sync(account)
    assert summary(result) == (0, 0, 2)
    assert uids(account) == [1, 3, 5]
    assert folder_row(account).total_count == 3


def test_uidvalidity_change_rebuilds_quietly(account: SyncAccount) -> None:
    server, user = account.user.server, account.user.username
    server.append(user, "Archive", [message(i) for i in range(1, 4)])
    sync(account)
    old = folder_row(account, "Archive").uidvalidity
    with imap(account.user) as client:
        client.delete_folder("Archive")
        client.create_folder("Archive")
    server.append(user, "Archive", [message(i) for i in range(1, 4)])
    result = sync(account)
    assert result.messages_synced == 0 and result.messages_rebuilt == 3  # type: ignore[attr-defined]
    archived = rows(account, "Archive")
    assert len(archived) == 3 and {m.uidvalidity for m in archived} != {old}
    assert sorted(m.subject for m in archived) == ["message 1", "message 2", "message 3"]


def test_one_folder_only_and_foreign_folder_refused(account: SyncAccount) -> None:
    server, user = account.user.server, account.user.username
    sync(account)
    server.append(user, "INBOX", [message(1)])
    server.append(user, "Sent", [message(2)])
    sent = folder_row(account, "Sent")
    result = sync(account, folder_id=sent.id)
    assert result.messages_synced == 1 and uids(account) == []  # type: ignore[attr-defined]
    with pytest.raises(TaskUnauthorized):
        sync(account, folder_id="not-a-folder-of-this-account")


def test_vanished_folder_is_dropped_with_its_messages(account: SyncAccount) -> None:
    with imap(account.user) as client:
        client.create_folder("Projects")
    account.user.server.append(account.user.username, "Projects", [message(1), message(2)])
    sync(account)
    assert len(rows(account, "Projects")) == 2
    with imap(account.user) as client:
        client.delete_folder("Projects")
    sync(account)
    assert rows(account, "Projects") == []
    with pytest.raises(NoResultFound):
        folder_row(account, "Projects")


def test_cli_sync_prints_the_result(account: SyncAccount) -> None:
    from click.testing import CliRunner

    from email_service.cli import main

    account.user.server.append(account.user.username, "INBOX", [message(i) for i in range(1, 4)])
    outcome = CliRunner().invoke(main, ["sync", account.account_id])
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(outcome.output.strip().splitlines()[-1])["messages_synced"] == 3
    missing = CliRunner().invoke(main, ["sync", "no-such-account"])
    assert missing.exit_code != 0 and "no account" in missing.output
