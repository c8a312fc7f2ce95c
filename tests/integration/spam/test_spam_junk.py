"""Spam and Junk on a real Dovecot: the product moves spam to Junk when asked; user moves teach the model."""

from __future__ import annotations

from typing import Any

from email_service.core.config import get_settings
from email_service.spam.junk_feedback import ProductMoves
from email_service.spam.tasks import check_spam, check_spam_batch
from email_service.sync.lock import AccountLock, redis_client
from tests.conftest import Caller
from tests.integration.deletion.delete_support import rows_in, server_subjects, sync
from tests.integration.spam.junk_support import (
    PHISH_ID,
    PHISH_SUBJECT,
    junk_account,
    labels,
    move_by_subject,
    row_ids,
    server_uids,
)
from tests.integration.sync.sync_support import SyncAccount
from tests.servers.dovecot_fixtures import ImapUser

PLAIN_SUBJECT = "Notes from Tuesday's planning meeting"


def owner_args(account: SyncAccount) -> dict[str, Any]:
    return {"tenant_id": account.caller.tenant_id, "user_id": account.caller.user_id}


def check_inbox(account: SyncAccount) -> dict[str, Any]:
    ids = [m.id for m in rows_in(account, "INBOX")]
    return dict(check_spam_batch.apply(kwargs={"email_ids": ids, **owner_args(account)}).get())


def test_spam_moves_to_junk_and_the_next_sync_changes_nothing(owner: Caller, imap_user: ImapUser) -> None:
    account = junk_account(owner, imap_user, opted_in=True)
    (before,) = [m for m in rows_in(account, "INBOX") if m.subject == PHISH_SUBJECT]

    result = check_inbox(account)
    assert result == {"status": "completed", "scored": 2, "spam": 1, "uncertain": 0, "moved_to_junk": 1}
    assert server_subjects(imap_user, "Junk") == [PHISH_SUBJECT]
    assert server_subjects(imap_user, "INBOX") == [PLAIN_SUBJECT]
    (moved,) = rows_in(account, "Junk")
    assert moved.id == before.id and moved.is_spam is True  # the same row, verdict kept
    assert moved.uid == server_uids(imap_user, "Junk")[0] and moved.uidvalidity != 0
    assert [m.subject for m in rows_in(account, "INBOX")] == [PLAIN_SUBJECT]
    client = redis_client(get_settings().broker_url)
    try:  # the product-move mark lives only until the rows have followed
        assert client.exists(ProductMoves.key(account.account_id)) == 0
    finally:
        client.close()

    ids = row_ids(account)
    again = sync(account)
    assert (again.messages_synced, again.messages_deleted, again.junk_feedback) == (0, 0, 0)
    assert row_ids(account) == ids  # nothing duplicated, nothing resurrected
    assert labels(owner) == (0, 0)  # the product's own move is not feedback


def test_without_the_setting_spam_stays_in_inbox(owner: Caller, imap_user: ImapUser) -> None:
    account = junk_account(owner, imap_user, opted_in=False)
    phish_id = next(m.id for m in rows_in(account, "INBOX") if m.subject == PHISH_SUBJECT)
    result = check_spam.apply(kwargs={"email_id": phish_id, **owner_args(account)}).get()
    assert result["is_spam"] is True and result["moved_to_junk"] is False
    assert server_subjects(imap_user, "Junk") == []
    assert sorted(m.subject for m in rows_in(account, "INBOX")) == sorted([PHISH_SUBJECT, PLAIN_SUBJECT])


def test_a_running_sync_defers_the_move_but_the_verdict_is_stored(
    owner: Caller, imap_user: ImapUser, task_retries: list[BaseException]
) -> None:
    account = junk_account(owner, imap_user, opted_in=True)
    phish_id = next(m.id for m in rows_in(account, "INBOX") if m.subject == PHISH_SUBJECT)
    kwargs = {"email_id": phish_id, **owner_args(account)}
    client = redis_client(get_settings().broker_url)
    try:
        with AccountLock(client, account.account_id, 60) as held:  # a sync of the account is running
            assert held
            last = check_spam.apply(kwargs=kwargs, retries=check_spam.max_retries).get()
            assert len(task_retries) == 0  # the last attempt reports instead of retrying
            assert last["is_spam"] is True and last["moved_to_junk"] is False
            assert server_subjects(imap_user, "Junk") == []
            assert next(m for m in rows_in(account, "INBOX") if m.id == phish_id).is_spam is True
            check_spam.apply(kwargs=kwargs).get()
            assert len(task_retries) == check_spam.max_retries  # transient: retried
    finally:
        client.close()
    assert check_spam.apply(kwargs=kwargs).get()["moved_to_junk"] is True
    assert server_subjects(imap_user, "Junk") == [PHISH_SUBJECT]


def test_user_moves_into_and_out_of_junk_are_feedback(owner: Caller, imap_user: ImapUser) -> None:
    account = junk_account(owner, imap_user, opted_in=False)
    move_by_subject(imap_user, "INBOX", PLAIN_SUBJECT, "Archive")  # not Junk: no label
    move_by_subject(imap_user, "INBOX", PHISH_SUBJECT, "Junk")
    first = sync(account)
    assert first.junk_feedback == 1 and labels(owner) == (1, 0)
    (in_junk,) = rows_in(account, "Junk")
    assert in_junk.subject == PHISH_SUBJECT and in_junk.is_spam is True

    move_by_subject(imap_user, "Junk", PHISH_SUBJECT, "INBOX")
    second = sync(account)
    assert second.junk_feedback == 1 and labels(owner) == (1, 1)
    (back,) = rows_in(account, "INBOX")
    assert back.subject == PHISH_SUBJECT and back.is_spam is False

    assert sync(account).junk_feedback == 0 and labels(owner) == (1, 1)  # counted once


def test_a_copy_into_junk_is_not_a_move(owner: Caller, imap_user: ImapUser) -> None:
    account = junk_account(owner, imap_user, opted_in=False)
    move_by_subject(imap_user, "INBOX", PLAIN_SUBJECT, "Junk", copy=True)
    assert sync(account).junk_feedback == 0 and labels(owner) == (0, 0)


def test_a_product_move_the_rows_did_not_follow_gives_no_label(owner: Caller, imap_user: ImapUser) -> None:
    """The worker died between the MOVE and the re-point: the sync sees a move, the mark says it was ours."""
    account = junk_account(owner, imap_user, opted_in=True)
    header = next(m.message_id_header for m in rows_in(account, "INBOX") if m.subject == PHISH_SUBJECT)
    assert header == PHISH_ID.strip("<>")  # stored normalised, and so marked
    client = redis_client(get_settings().broker_url)
    try:
        marks = ProductMoves(client)
        marks.mark(account.account_id, [header])
        move_by_subject(imap_user, "INBOX", PHISH_SUBJECT, "Junk")
        result = sync(account)
        assert (result.messages_synced, result.messages_deleted, result.junk_feedback) == (1, 1, 0)
        assert labels(owner) == (0, 0)
        assert client.sismember(marks.key(account.account_id), header) == 0  # the mark is used up
    finally:
        client.close()
    move_by_subject(imap_user, "Junk", PHISH_SUBJECT, "INBOX")  # the user disagrees: that counts
    assert sync(account).junk_feedback == 1 and labels(owner) == (0, 1)
