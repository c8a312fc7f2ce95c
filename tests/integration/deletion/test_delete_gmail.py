"""Permanent delete on a server advertising X-GM-EXT-1 (Dovecot with `imap_capability = +X-GM-EXT-1`).

Gmail deletes a message for good only when it is expunged from Trash, so there a permanent delete
moves it to Trash and expunges it there: Trash's UIDNEXT moving on (and Trash ending empty) shows
the message went through it. On the same server without X-GM-EXT-1 it is expunged in place.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import update

from email_service.accounts.model import EmailAccount
from email_service.core.db import session_scope
from email_service.deletion.tasks import delete_emails
from tests.conftest import Caller
from tests.integration.deletion.delete_support import ids_by_subject, rows_in, seeded_account, server_subjects
from tests.integration.sync.sync_support import SyncAccount, imap
from tests.servers.dovecot_fixtures import DovecotFactory, ImapUser, new_user


def _purge(account: SyncAccount, ids: list[str]) -> dict[str, Any]:
    caller = account.caller
    kwargs = {"email_ids": ids, "tenant_id": caller.tenant_id, "user_id": caller.user_id, "permanent": True}
    return delete_emails.apply(kwargs=kwargs).get()


def _trash_uidnext(user: ImapUser) -> int:
    client = imap(user)
    try:
        return int(client.folder_status("Trash", [b"UIDNEXT"])[b"UIDNEXT"])
    finally:
        client.logout()


@pytest.mark.parametrize("gmail", [True, False], ids=["x-gm-ext-1", "plain"])
def test_a_permanent_delete_on_gmail_goes_through_trash(
    owner: Caller, dovecot_factory: DovecotFactory, gmail: bool
) -> None:
    server = dovecot_factory()
    account = seeded_account(owner, new_user(server))  # synced while the server is plain
    if gmail:
        server.restart(capabilities="+X-GM-EXT-1")  # new ports: the account and the checks follow
        account = replace(account, user=replace(account.user, port=server.imap_port))
        with session_scope(owner.tenant_id) as session:
            session.execute(
                update(EmailAccount)
                .where(EmailAccount.id == account.account_id)
                .values(imap_port=server.imap_port)
            )
    user = account.user
    assert isinstance(user, ImapUser)
    before = _trash_uidnext(user)
    ids = ids_by_subject(account, "INBOX", "message 1", "message 3")
    result = _purge(account, ids)
    assert result["status"] == "success" and result["deleted_count"] == 2
    assert server_subjects(user, "INBOX") == ["message 2"]
    assert server_subjects(user, "Trash") == []
    assert _trash_uidnext(user) == before + (2 if gmail else 0)
    assert [m.subject for m in rows_in(account, "INBOX")] == ["message 2"]
