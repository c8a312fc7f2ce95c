"""Which folders are mirrored, on a real Dovecot with a virtual `\\All` mailbox (Dovecot's virtual plugin).

On any server the `\\All` folder is listed but not stored as a second copy of the other folders. With
X-GM-EXT-1 advertised (Dovecot's `imap_capability = +X-GM-EXT-1`) the Gmail model applies: only `\\All`,
`\\Junk` and `\\Trash` are synced. Dovecot does not answer X-GM-* FETCH items, so there the `\\All` sync
itself ends in a folder error: which folder errs proves which one was fetched (label parsing is unit-tested).
"""

from __future__ import annotations

from sqlalchemy import select, update

from email_service.accounts.model import EmailAccount
from email_service.core.db import session_scope
from email_service.messages.folder_model import Folder
from email_service.messages.model import Message
from email_service.sync.service import SyncResult, run_account_sync
from tests.conftest import Caller
from tests.integration.sync.sync_support import SyncAccount, folder_row, make_account, message, rows
from tests.servers.dovecot_fixtures import DovecotFactory, new_user
from tests.servers.dovecot_virtual import VIRTUAL_ALL_NAME

GMAIL = "+X-GM-EXT-1"


def _sync(account: SyncAccount, folder_id: str | None = None) -> SyncResult:
    return run_account_sync(*account.ids, folder_id=folder_id)


def _all_rows(account: SyncAccount) -> list[Message]:
    with session_scope(account.caller.tenant_id) as session:
        return list(session.scalars(select(Message).where(Message.account_id == account.account_id)))


def _folder_names(account: SyncAccount) -> set[str]:
    with session_scope(account.caller.tenant_id) as session:
        query = select(Folder.name).where(Folder.account_id == account.account_id)
        return set(session.scalars(query))


def _seeded(owner: Caller, dovecot_factory: DovecotFactory, capabilities: str | None) -> SyncAccount:
    server = dovecot_factory(capabilities=capabilities, virtual_all=True)
    user = new_user(server)
    server.append(user.username, "INBOX", [message(i) for i in range(1, 4)])
    server.append(user.username, "Sent", [message(9)], flags=["\\Seen"])
    server.seed_maildir(user.username, "Work", [message(7)])  # a label folder, as Gmail lists them
    return make_account(owner, user)


def test_a_virtual_all_folder_is_listed_but_not_stored_twice(
    owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    account = _seeded(owner, dovecot_factory, None)
    result = _sync(account)
    assert result.status == "success" and not result.folder_errors
    assert result.messages_synced == 5  # 3 + 1 + 1, not 10 with the virtual copies
    assert VIRTUAL_ALL_NAME in _folder_names(account)
    all_folder = folder_row(account, VIRTUAL_ALL_NAME)
    assert all_folder.role == "all" and all_folder.synced_uid == 0 and all_folder.uidvalidity is None
    assert (all_folder.total_count, all_folder.unread_count) == (5, 4)  # STATUS: the server's counts
    assert rows(account, VIRTUAL_ALL_NAME) == []
    assert len(rows(account)) == 3 and len(rows(account, "Work")) == 1
    # asked for by id, the All folder syncs nothing either
    again = _sync(account, folder_id=all_folder.id)
    assert again.status == "success" and again.folders_synced == 0 and rows(account, VIRTUAL_ALL_NAME) == []


def test_with_x_gm_ext_1_only_all_junk_and_trash_are_synced(
    owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    account = _seeded(owner, dovecot_factory, GMAIL)
    result = _sync(account)
    assert set(result.folder_errors) == {VIRTUAL_ALL_NAME}  # the one folder whose mail was fetched
    assert "X-GM" in result.folder_errors[VIRTUAL_ALL_NAME]
    assert result.folders_synced + result.folders_unchanged == 2  # Junk and Trash (empty)
    assert {"INBOX", "Sent", "Work", "Junk", "Trash", VIRTUAL_ALL_NAME} <= _folder_names(account)
    assert _all_rows(account) == []  # no label folder stored as copies
    inbox_folder = folder_row(account)
    assert (inbox_folder.total_count, inbox_folder.unread_count) == (3, 3)  # from STATUS, not from rows
    # a one-folder sync of INBOX on Gmail is a sync of All Mail, where INBOX's messages live
    inbox = _sync(account, folder_id=folder_row(account).id)
    assert set(inbox.folder_errors) == {VIRTUAL_ALL_NAME}


def test_rows_of_folders_no_longer_mirrored_are_dropped(
    owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    """A mirror made before the server advertised X-GM-EXT-1 keeps no label copies afterwards."""
    account = _seeded(owner, dovecot_factory, None)
    assert _sync(account).messages_synced == 5
    server = account.user.server
    server.restart(capabilities=GMAIL)  # new ports: point the account at them
    with session_scope(account.caller.tenant_id) as session:
        session.execute(
            update(EmailAccount)
            .where(EmailAccount.id == account.account_id)
            .values(imap_port=server.imap_port)
        )
    result = _sync(account)
    assert set(result.folder_errors) == {VIRTUAL_ALL_NAME}
    assert _all_rows(account) == []
    inbox = folder_row(account)
    assert inbox.synced_uid == 0 and inbox.uidvalidity is None  # mirrored again later, it starts over
