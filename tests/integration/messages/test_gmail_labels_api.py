"""Gmail's labels and message id on stored rows, read through the HTTP API, changed by a resync.

Rows are built as the sync builds them from a Gmail FETCH (X-GM-LABELS, X-GM-MSGID set): Dovecot does
not answer X-GM-* items, so the FETCH parsing is unit-tested (tests/unit/mail/test_gmail_labels.py)
and the store, the label resync and the views are proved here on the real database.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from email_service.core.db import session_scope
from email_service.mail.imap.types import FetchedMessage, FlagUpdate
from email_service.messages.model import Message
from email_service.sync import labels, store
from email_service.sync.rows import RowContext, build_rows
from tests.conftest import Caller
from tests.integration.deletion.delete_support import sync
from tests.integration.sync.sync_support import SyncAccount, folder_row, make_account, message
from tests.servers.dovecot_fixtures import ImapUser


@pytest.fixture
def account(owner: Caller, imap_user: ImapUser) -> SyncAccount:
    return make_account(owner, imap_user)


def _listing(client: Any, caller: Caller, folder_id: str) -> dict[str, list[str]]:
    response = client.get(
        "/api/email/messages", query_string={"folder_id": folder_id}, headers=caller.headers
    )
    assert response.status_code == 200, response.get_json()
    return {m["subject"]: m["labels"] for m in response.get_json()["items"]}


def _view(client: Any, caller: Caller, message_id: str) -> dict[str, Any]:
    response = client.get(f"/api/email/messages/{message_id}", headers=caller.headers)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def test_labels_are_stored_shown_and_follow_a_resync(
    client: Any, account: SyncAccount, owner: Caller
) -> None:
    account.user.server.append(account.user.username, "INBOX", [message(1)])
    sync(account)  # a plain server: no labels, no Gmail id
    folder = folder_row(account)
    assert folder.uidvalidity is not None
    assert _listing(client, owner, folder.id) == {"message 1": []}
    ctx = RowContext(owner.tenant_id, owner.user_id, account.account_id, folder.id, folder.uidvalidity)
    raw = message(2)
    gmail = FetchedMessage(
        50,
        (),
        None,
        None,
        len(raw),
        raw,
        gm_msgid="1278455344230334865",
        gm_labels=("\\Inbox", "Muy Importante"),
    )
    with session_scope(owner.tenant_id) as session:
        assert store.insert_batch(session, folder.id, build_rows(ctx, [gmail])) == 1
    assert _listing(client, owner, folder.id) == {"message 1": [], "message 2": ["\\Inbox", "Muy Importante"]}
    with session_scope(owner.tenant_id) as session:
        row = session.scalars(select(Message).where(Message.folder_id == folder.id, Message.uid == 50)).one()
        row_id = row.id
        assert row.gm_msgid == "1278455344230334865"
    assert _view(client, owner, row_id)["labels"] == ["\\Inbox", "Muy Importante"]

    key = (account.account_id, folder.id, folder.uidvalidity)
    relabel = FlagUpdate(50, ("\\Seen",), None, gm_labels=("Work",))
    with session_scope(owner.tenant_id) as session:
        assert labels.relabelled(session, key, [relabel, FlagUpdate(50, (), None)], {50}) == [relabel]
        labels.update_labels(session, key, [relabel])
        store.update_flags(session, *key, [relabel])
    view = _view(client, owner, row_id)
    assert view["labels"] == ["Work"] and view["is_read"]
    with session_scope(owner.tenant_id) as session:  # a flags fetch without labels leaves them alone
        labels.update_labels(session, key, [FlagUpdate(50, (), None)])
        assert labels.relabelled(session, key, [FlagUpdate(50, (), None, gm_labels=("Work",))], {50}) == []
    assert _view(client, owner, row_id)["labels"] == ["Work"]


def test_the_label_filter_lists_a_labels_messages(client: Any, account: SyncAccount, owner: Caller) -> None:
    """On Gmail the rows live in All Mail: `label=` is how a client lists "INBOX" or "Work"."""
    sync(account)
    folder = folder_row(account)
    assert folder.uidvalidity is not None
    ctx = RowContext(owner.tenant_id, owner.user_id, account.account_id, folder.id, folder.uidvalidity)
    labelled = {1: ("\\Inbox", "Work"), 2: ("Work",), 3: (), 4: ('say "hi"', "Ünïcode")}
    fetched = [
        FetchedMessage(uid, (), None, None, 0, message(uid), gm_labels=names)
        for uid, names in labelled.items()
    ]
    with session_scope(owner.tenant_id) as session:
        store.insert_batch(session, folder.id, build_rows(ctx, fetched))

    def subjects(label: str) -> list[str]:
        response = client.get("/api/email/messages", query_string={"label": label}, headers=owner.headers)
        assert response.status_code == 200, response.get_json()
        return sorted(m["subject"] for m in response.get_json()["items"])

    assert subjects("\\Inbox") == ["message 1"]
    assert subjects("Work") == ["message 1", "message 2"]
    assert subjects('say "hi"') == subjects("Ünïcode") == ["message 4"]
    assert subjects("work") == subjects("Wor") == []  # exact, not a substring or case-folded
    too_long = client.get("/api/email/messages", query_string={"label": "x" * 501}, headers=owner.headers)
    assert too_long.status_code == 400
