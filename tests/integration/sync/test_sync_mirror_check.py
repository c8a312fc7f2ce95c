"""The mirror checks itself: a folder whose row count differs from the server's is repaired and reported.

GNU Mailutils' imap4d answers `UID SEARCH UID 1:*` with nothing, so a sync that trusts it mirrors 0 of
50 messages and reports success; rows lost behind the sync's back on Dovecot (CONDSTORE or not) are
invisible to STATUS. Both must end with the mirror equal to the server and `mirror_mismatch` saying so.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from email_service.core.db import session_scope
from email_service.messages.model import Message
from email_service.sync.service import run_account_sync
from email_service.sync.tasks import sync_emails
from tests.conftest import Caller
from tests.integration.sync.sync_support import NO_CONDSTORE, SyncAccount, make_account, message, uids
from tests.servers.dovecot_fixtures import DovecotFactory, ImapUser, new_user
from tests.servers.mailutils_fixtures import MailutilsUser


def test_mailutils_first_sync_mirrors_all_50(owner: Caller, mailutils_user: MailutilsUser) -> None:
    mailutils_user.server.append(mailutils_user.username, [message(i) for i in range(1, 51)])
    account = make_account(owner, mailutils_user)
    result = run_account_sync(*account.ids)
    assert result.status == "success", result.as_dict()
    assert uids(account) == list(range(1, 51))
    assert result.messages_synced == 50
    assert result.mirror_mismatch == {"INBOX": {"server": 50, "mirror": 0, "fetched": 50, "dropped": 0}}
    again = run_account_sync(*account.ids)  # now the mirror is right: no repair, no churn
    assert again.mirror_mismatch == {} and again.messages_deleted == 0
    assert uids(account) == list(range(1, 51))


def test_mailutils_new_mail_after_the_first_sync_is_mirrored(
    owner: Caller, mailutils_user: MailutilsUser
) -> None:
    server = mailutils_user.server
    server.append(mailutils_user.username, [message(i) for i in range(1, 4)])
    account = make_account(owner, mailutils_user)
    run_account_sync(*account.ids)
    server.append(mailutils_user.username, [message(i) for i in range(4, 6)])
    result = run_account_sync(*account.ids)
    assert uids(account) == [1, 2, 3, 4, 5]
    assert result.messages_synced == 2 and result.messages_deleted == 0


def _drop_rows(account: SyncAccount, gone: list[int]) -> None:
    """Delete mirror rows behind the sync's back (a crash, a bug, a hand edit)."""
    with session_scope(account.caller.tenant_id) as session:
        session.execute(
            delete(Message).where(Message.account_id == account.account_id, Message.uid.in_(gone))
        )


@pytest.mark.parametrize("capabilities", [None, NO_CONDSTORE], ids=["qresync", "no-condstore"])
def test_rows_deleted_behind_the_mirrors_back_are_repaired_and_reported(
    owner: Caller, imap_user: ImapUser, dovecot_factory: DovecotFactory, capabilities: str | None
) -> None:
    user = imap_user if capabilities is None else new_user(dovecot_factory(capabilities=capabilities))
    user.server.append(user.username, "INBOX", [message(i) for i in range(1, 11)])
    account = make_account(owner, user)
    assert run_account_sync(*account.ids).messages_synced == 10
    _drop_rows(account, [2, 5, 9])
    result = sync_emails.apply(kwargs={"email_client_id": account.account_id, **_owner(owner)}).get()
    assert result["status"] == "success"
    assert uids(account) == list(range(1, 11))
    assert result["mirror_mismatch"] == {"INBOX": {"server": 10, "mirror": 7, "fetched": 3, "dropped": 0}}
    assert run_account_sync(*account.ids).mirror_mismatch == {}


def _owner(caller: Caller) -> dict[str, str]:
    return {"tenant_id": caller.tenant_id, "user_id": caller.user_id}
