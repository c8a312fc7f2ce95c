"""A move into a folder that keeps no rows is refused (409): the rows would be copies no sync keeps.

On any server that is a `\\All` folder (here Dovecot's virtual All); on Gmail, where All Mail is the
synced folder (its checkpoint set, as the All Mail sync leaves it), it is every label folder too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from email_service.core.db import session_scope
from email_service.messages.folder_model import Folder
from tests.conftest import Caller
from tests.integration.deletion.delete_support import folder_id, ids_by_subject, sync
from tests.integration.sync.sync_support import SyncAccount, make_account, message
from tests.servers.dovecot_fixtures import DovecotFactory, new_user
from tests.servers.dovecot_virtual import VIRTUAL_ALL_NAME


def _move(client: Any, account: SyncAccount, ids: list[str], folder: str) -> Any:
    body = {"email_ids": ids, "folder_id": folder_id(account, folder)}
    return client.post("/api/email/move", json=body, headers=account.caller.headers)


def test_moves_into_folders_without_rows_are_refused(
    client: Any, owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    user = new_user(dovecot_factory(virtual_all=True))
    user.server.append(user.username, "INBOX", [message(1)])
    user.server.seed_maildir(user.username, "Work", [message(2)])
    account = make_account(owner, user)
    sync(account)
    ids = ids_by_subject(account, "INBOX", "message 1")
    refused = _move(client, account, ids, VIRTUAL_ALL_NAME)
    assert refused.status_code == 409 and "\\All" in refused.get_json()["error"]["message"]
    assert _move(client, account, ids, "Work").status_code == 202  # a plain server: Work is a folder

    with session_scope(owner.tenant_id) as session:  # All Mail synced: the account is in Gmail's model
        session.execute(
            update(Folder)
            .where(Folder.account_id == account.account_id, Folder.role == "all")
            .values(uidvalidity=7)
        )
    other = ids_by_subject(account, "Work", "message 2")
    label = _move(client, account, other, "INBOX")
    assert label.status_code == 409 and "Gmail" in label.get_json()["error"]["message"]
    assert _move(client, account, other, "Trash").status_code == 202
