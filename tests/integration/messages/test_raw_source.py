"""GET /api/email/messages/<id>/raw against a real Dovecot: the exact bytes the server holds."""

from __future__ import annotations

from typing import Any

from email_service.accounts.service import update_account
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.sync.service import run_account_sync
from tests.conftest import Caller, make_caller
from tests.integration.sync.sync_support import SyncAccount, imap, make_account, message, rows
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.redis_server import free_port

# Odd but valid bytes a parser would normalise: folded header, trailing spaces, 8-bit body, no final CRLF.
ORIGINAL = (
    b"From: Sender <sender@example.test>\r\nTo: me@example.test\r\n"
    b"Subject: raw\r\n  folded  \r\nMessage-ID: <raw-1@example.test>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    b"caf\xc3\xa9   \r\nlast line"
)


def _synced(owner: Caller, imap_user: ImapUser, *messages: bytes) -> SyncAccount:
    imap_user.server.append(imap_user.username, "INBOX", list(messages))
    account = make_account(owner, imap_user)
    assert run_account_sync(*account.ids).status == "success"
    return account


def _raw(client: Any, caller: Caller, message_id: str) -> Any:
    return client.get(f"/api/email/messages/{message_id}/raw", headers=caller.headers)


def test_raw_source_is_the_servers_bytes_as_a_download(
    client: Any, owner: Caller, imap_user: ImapUser
) -> None:
    account = _synced(owner, imap_user, ORIGINAL, message(2))
    row = min(rows(account), key=lambda r: r.uid)  # the first appended

    response = _raw(client, owner, row.id)

    assert response.status_code == 200
    assert response.data == ORIGINAL
    assert response.headers["Content-Type"] == "message/rfc822"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    with imap(imap_user) as server:  # read with BODY.PEEK[]: still unread on the server
        server.select_folder("INBOX", readonly=True)
        assert all(b"\\Seen" not in flags for flags in server.get_flags(server.search("ALL")).values())
    for stranger in (make_caller(), make_caller(tenant_id=owner.tenant_id)):
        assert _raw(client, stranger, row.id).status_code == 404
    assert _raw(client, owner, "no-such-message").status_code == 404


def test_a_message_gone_from_the_server_is_404_and_an_unreachable_server_409(
    client: Any, owner: Caller, imap_user: ImapUser
) -> None:
    account = _synced(owner, imap_user, message(1), message(2))
    first, second = sorted(rows(account), key=lambda r: r.uid)
    with imap(imap_user) as server:
        server.select_folder("INBOX")
        server.delete_messages([first.uid])
        server.expunge()
    gone = _raw(client, owner, first.id)
    assert gone.status_code == 404 and "no longer on the server" in gone.get_json()["error"]["message"]

    with session_scope(owner.tenant_id) as session:
        changes = {"imap_port": free_port()}  # nothing listens there
        update_account(session, get_secret_box(), account.account_id, owner.tenant_id, owner.user_id, changes)
    down = _raw(client, owner, second.id)
    assert down.status_code == 409 and down.get_json()["error"]["details"]["reason"] == "server_unreachable"


def test_refused_credentials_are_409(client: Any, owner: Caller, imap_user: ImapUser) -> None:
    account = _synced(owner, imap_user, message(1))
    [row] = rows(account)
    with session_scope(owner.tenant_id) as session:
        changes = {"password": "no-longer-valid"}
        update_account(session, get_secret_box(), account.account_id, owner.tenant_id, owner.user_id, changes)
    refused = _raw(client, owner, row.id)
    assert refused.status_code == 409 and refused.get_json()["error"]["details"]["reason"] == "auth_failed"
