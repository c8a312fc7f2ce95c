"""Permanent delete on real Dovecot: exactly these UIDs, purge, refusal without UIDPLUS, command count."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from email_service.accounts.model import EmailAccount
from email_service.core.db import session_scope
from email_service.deletion.tasks import delete_emails
from tests.conftest import Caller
from tests.integration.deletion.delete_support import (
    NO_MOVE,
    NO_MOVE_NO_UIDPLUS,
    CountingProxy,
    attachment_count,
    ids_by_subject,
    rows_in,
    seeded_account,
    server_subjects,
    sync,
    with_attachment,
)
from tests.integration.sync.sync_support import SyncAccount, imap, make_account, message
from tests.servers.dovecot_fixtures import DovecotFactory, ImapUser, new_user


def purge(account: SyncAccount, ids: list[str]) -> dict[str, Any]:
    caller = account.caller
    kwargs = {"email_ids": ids, "tenant_id": caller.tenant_id, "user_id": caller.user_id, "permanent": True}
    return delete_emails.apply(kwargs=kwargs).get()


@pytest.mark.parametrize("capabilities", [None, NO_MOVE])
def test_expunges_exactly_these_and_the_other_deleted_message_survives(
    owner: Caller, dovecot_factory: DovecotFactory, capabilities: str | None
) -> None:
    account = seeded_account(owner, new_user(dovecot_factory(capabilities=capabilities)), deleted_extra=True)
    ids = ids_by_subject(account, "INBOX", "message 1", "message 3")
    result = purge(account, ids)
    assert result == {
        "status": "success",
        "deleted_count": 2,
        "not_found": [],
        "failed": [],
        "permanent": True,
    }
    assert server_subjects(account.user, "INBOX") == ["flagged elsewhere", "message 2"]
    assert server_subjects(account.user, "Trash") == []
    assert sorted(m.subject for m in rows_in(account, "INBOX")) == ["flagged elsewhere", "message 2"]
    assert sync(account).messages_synced == 0  # nothing purged comes back
    assert purge(account, ids)["not_found"] == ids  # a second run touches nothing


def test_rows_and_attachment_blobs_are_purged(owner: Caller, imap_user: ImapUser) -> None:
    imap_user.server.seed_maildir(imap_user.username, "INBOX", [with_attachment(1), with_attachment(2)])
    account = make_account(owner, imap_user)
    sync(account)
    assert attachment_count(account) == 2
    purge(account, ids_by_subject(account, "INBOX", "attached 1"))
    assert attachment_count(account) == 1
    assert [m.subject for m in rows_in(account, "INBOX")] == ["attached 2"]


def test_permanent_from_trash_after_soft_delete(owner: Caller, imap_user: ImapUser) -> None:
    account = seeded_account(owner, imap_user)
    ids = ids_by_subject(account, "INBOX", "message 2")
    caller = account.caller
    delete_emails.apply(
        kwargs={"email_ids": ids, "tenant_id": caller.tenant_id, "user_id": caller.user_id}
    ).get()
    assert purge(account, ids)["deleted_count"] == 1
    assert server_subjects(imap_user, "Trash") == [] and rows_in(account, "Trash") == []
    assert sync(account).messages_synced == 0


def test_without_uidplus_refuses_when_others_are_deleted(
    owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    account = seeded_account(
        owner, new_user(dovecot_factory(capabilities=NO_MOVE_NO_UIDPLUS)), deleted_extra=True
    )
    ids = ids_by_subject(account, "INBOX", "message 1")
    result = purge(account, ids)
    assert result["status"] == "failed" and result["deleted_count"] == 0
    assert result["failed"][0]["id"] == ids[0] and "UIDPLUS" in result["failed"][0]["reason"]
    assert server_subjects(account.user, "INBOX") == [
        "flagged elsewhere",
        "message 1",
        "message 2",
        "message 3",
    ]
    assert server_subjects(account.user, "INBOX", "DELETED") == ["flagged elsewhere"]  # ours not left flagged
    assert len(rows_in(account, "INBOX")) == 4


def test_without_uidplus_allowed_when_no_other_message_is_deleted(
    owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    account = seeded_account(owner, new_user(dovecot_factory(capabilities=NO_MOVE_NO_UIDPLUS)))
    assert purge(account, ids_by_subject(account, "INBOX", "message 1", "message 2"))["deleted_count"] == 2
    assert server_subjects(account.user, "INBOX") == ["message 3"]
    assert [m.subject for m in rows_in(account, "INBOX")] == ["message 3"]


def test_a_failing_folder_does_not_undo_the_others(owner: Caller, imap_user: ImapUser) -> None:
    imap_user.server.seed_maildir(imap_user.username, "INBOX", [message(1), message(2)])
    imap_user.server.seed_maildir(imap_user.username, "Archive", [message(3)])
    account = make_account(owner, imap_user)
    sync(account)
    inbox_ids = ids_by_subject(account, "INBOX", "message 1")
    archive_ids = ids_by_subject(account, "Archive", "message 3")
    client = imap(imap_user)  # a new Archive has a new UIDVALIDITY: the stored UIDs are stale
    client.rename_folder("Archive", "Archive-old")
    client.create_folder("Archive")
    client.logout()
    result = purge(account, [*inbox_ids, *archive_ids])
    assert result["status"] == "partial" and result["deleted_count"] == 1
    assert [f["id"] for f in result["failed"]] == archive_ids
    assert "UIDVALIDITY" in result["failed"][0]["reason"]
    assert server_subjects(imap_user, "INBOX") == ["message 2"]
    assert server_subjects(imap_user, "Archive-old") == ["message 3"]


PIPELINED = ["UID STORE", "UID EXPUNGE"]  # written in one burst: one round trip


@pytest.mark.parametrize(
    ("permanent", "capabilities", "expected"),
    [
        (True, None, [["SELECT"], PIPELINED]),
        (False, None, [["STATUS"], ["SELECT"], ["UID MOVE"]]),
        (False, NO_MOVE, [["STATUS"], ["SELECT"], ["UID COPY"], PIPELINED]),
    ],
    ids=["permanent", "soft-move", "soft-copy"],
)
def test_round_trips_of_a_1000_message_delete(
    owner: Caller,
    dovecot_factory: DovecotFactory,
    record_property: Any,
    permanent: bool,
    capabilities: str | None,
    expected: list[list[str]],
) -> None:
    """1,000 non-adjacent UIDs fit one range set: each step is one command, each chunk one round trip."""
    user = new_user(dovecot_factory(capabilities=capabilities))
    user.server.seed_maildir(user.username, "INBOX", [message(i) for i in range(1, 2001)])
    account = make_account(owner, user)
    sync(account)
    every_other = [m.id for m in rows_in(account, "INBOX") if m.uid % 2 == 1]
    assert len(every_other) == 1000
    proxy = CountingProxy(user.port)
    try:
        with session_scope(owner.tenant_id) as session:
            session.execute(
                update(EmailAccount).where(EmailAccount.id == account.account_id).values(imap_port=proxy.port)
            )
        caller = account.caller
        kwargs = {"email_ids": every_other, "tenant_id": caller.tenant_id, "user_id": caller.user_id}
        result = delete_emails.apply(kwargs={**kwargs, "permanent": permanent}).get()
    finally:
        proxy.close()
    assert result["deleted_count"] == 1000 and result["failed"] == []
    record_property("imap_round_trips", proxy.bursts)
    enable = [["ENABLE"]] if capabilities is None else []  # NO_MOVE also leaves out CONDSTORE
    session_setup = [["CAPABILITY"], ["LOGIN"], ["CAPABILITY"], *enable]
    assert proxy.bursts == [*session_setup, *expected, ["LOGOUT"]]
    assert len(server_subjects(user, "INBOX")) == 1000
    assert len(server_subjects(user, "Trash")) == (0 if permanent else 1000)
    assert len([m for m in rows_in(account, "INBOX") if m.deleted_at is None]) == 1000
