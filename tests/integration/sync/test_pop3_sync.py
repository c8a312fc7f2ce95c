"""POP3 accounts against a real Dovecot POP3 server (dovecot-pop3d) over real sockets.

The mailbox is changed behind the service's back over IMAP (tests/servers/dovecot.py append) and
checked over a separate POP3 connection; POP3 sees the same INBOX.
"""

from __future__ import annotations

import os
import poplib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from imapclient import IMAPClient
from sqlalchemy import select, update

from email_service.core.config import reset_settings
from email_service.core.db import session_scope
from email_service.deletion.tasks import delete_emails
from email_service.mail.imap.types import ImapConnectionError
from email_service.mail.pop3.client import Pop3Session
from email_service.mail.pop3.types import Pop3AuthError, Pop3Settings
from email_service.messages.folder_model import Folder
from email_service.messages.model import Message
from email_service.sync.service import run_account_sync
from tests.conftest import Caller
from tests.integration.sending.send_support import SendAccount, post_send, run_task
from tests.integration.sync.sync_support import message
from tests.reliability.proxy import TcpProxy
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.smtp_server import SmtpTestServer


def pop3_body(user: ImapUser, port: int | None = None) -> dict[str, Any]:
    return {
        "protocol": "pop3",
        "email_address": user.email,
        "pop3_host": user.host,
        "pop3_port": port or user.server.pop3_port,
        "pop3_security": "none",
        "smtp_host": user.host,
        "smtp_port": 25,
        "smtp_security": "none",
        "username": user.username,
        "password": user.password,
    }


def create(client: Any, owner: Caller, user: ImapUser, port: int | None = None) -> str:
    response = client.post("/api/accounts", json=pop3_body(user, port), headers=owner.headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["protocol"] == "pop3" and body["imap_host"] is None
    assert body["pop3_host"] == user.host and body["pop3_security"] == "none"
    return str(body["id"])


def sync(owner: Caller, account_id: str) -> dict[str, Any]:
    return run_account_sync(account_id, owner.tenant_id, owner.user_id).as_dict()


def rows(owner: Caller, account_id: str) -> list[Message]:
    with session_scope(owner.tenant_id) as session:
        found = session.scalars(
            select(Message).where(Message.account_id == account_id).order_by(Message.uid)
        ).all()
        session.expunge_all()
        return list(found)


def server_uidls(user: ImapUser) -> dict[str, int]:
    pop = poplib.POP3(user.host, user.server.pop3_port, timeout=10)
    try:
        pop.user(user.username)
        pop.pass_(user.password)
        _resp, lines, _octets = pop.uidl()
        return {line.split()[1].decode(): int(line.split()[0]) for line in lines}
    finally:
        pop.quit()


def subjects(owner: Caller, account_id: str) -> list[str]:
    return [m.subject for m in rows(owner, account_id)]


def test_pop3_account_create_needs_pop3_host(client: Any, owner: Caller, imap_user: ImapUser) -> None:
    body = pop3_body(imap_user)
    del body["pop3_host"]
    response = client.post("/api/accounts", json=body, headers=owner.headers)
    assert response.status_code == 422
    assert "pop3_host" in str(response.get_json())


def test_pop3_sync_new_mail_by_uidl(client: Any, owner: Caller, imap_user: ImapUser) -> None:
    imap_user.server.append(imap_user.username, "INBOX", [message(i) for i in range(1, 6)])
    account_id = create(client, owner, imap_user)

    first = sync(owner, account_id)
    assert first["status"] == "success" and first["messages_synced"] == 5
    assert first["folders_synced"] == 1 and set(first) >= {"messages_updated", "folder_errors", "timestamp"}
    stored = rows(owner, account_id)
    assert [m.subject for m in stored] == [f"message {i}" for i in range(1, 6)]
    assert {m.pop3_uidl for m in stored} == set(server_uidls(imap_user))
    assert "Hello number 3." in stored[2].body_text
    with session_scope(owner.tenant_id) as session:
        folders = session.scalars(select(Folder).where(Folder.account_id == account_id)).all()
        assert [(f.name, f.role, f.total_count, f.unread_count) for f in folders] == [
            ("INBOX", "inbox", 5, 5)
        ]

    again = sync(owner, account_id)
    assert again["status"] == "success" and again["messages_synced"] == 0
    assert len(rows(owner, account_id)) == 5

    # The UIDL list loses two entries (deleted by another client) and gains three.
    pop = poplib.POP3(imap_user.host, imap_user.server.pop3_port, timeout=10)
    pop.user(imap_user.username)
    pop.pass_(imap_user.password)
    pop.dele(1)
    pop.dele(4)
    pop.quit()
    imap_user.server.append(imap_user.username, "INBOX", [message(i) for i in range(6, 9)])
    assert len(server_uidls(imap_user)) == 6

    third = sync(owner, account_id)
    assert third["messages_synced"] == 3
    # Vanished from the server: kept locally; only the three new ones were fetched.
    assert subjects(owner, account_id) == [f"message {i}" for i in range(1, 9)]
    assert sync(owner, account_id)["messages_synced"] == 0


def test_pop3_cut_mid_retr_loses_and_doubles_nothing(client: Any, owner: Caller, imap_user: ImapUser) -> None:
    bodies = [message(i, body=f"body {i}\r\n" + ("x" * 70 + "\r\n") * 200) for i in range(1, 7)]
    bodies[3] = message(4, body="CUT-HERE-MARKER\r\n" + ("y" * 70 + "\r\n") * 200)
    imap_user.server.append(imap_user.username, "INBOX", bodies)
    proxy = TcpProxy(imap_user.server.pop3_port)
    try:
        account_id = create(client, owner, imap_user, port=proxy.port)
        proxy.cut_on(b"CUT-HERE-MARKER")  # the connection resets while message 4 is being RETRieved
        with pytest.raises(ImapConnectionError):
            sync(owner, account_id)
        kept = subjects(owner, account_id)
        assert kept == [f"message {i}" for i in range(1, 4)]  # those read before the cut are committed

        after = sync(owner, account_id)
        assert after["status"] == "success" and after["messages_synced"] == 3
        stored = rows(owner, account_id)
        assert [m.subject for m in stored] == [f"message {i}" for i in range(1, 7)]
        assert len({m.pop3_uidl for m in stored}) == 6
        assert stored[3].body_text.startswith("CUT-HERE-MARKER")
        assert sync(owner, account_id)["messages_synced"] == 0
    finally:
        proxy.close()


def delete(owner: Caller, ids: list[str], permanent: bool) -> dict[str, Any]:
    kwargs = {
        "email_ids": ids,
        "tenant_id": owner.tenant_id,
        "user_id": owner.user_id,
        "permanent": permanent,
    }
    return dict(delete_emails.apply(kwargs=kwargs).get())


def test_pop3_permanent_delete_is_dele_soft_delete_stays_on_server(
    client: Any, owner: Caller, imap_user: ImapUser
) -> None:
    imap_user.server.append(imap_user.username, "INBOX", [message(i) for i in range(1, 5)])
    account_id = create(client, owner, imap_user)
    assert sync(owner, account_id)["messages_synced"] == 4
    stored = {m.subject: m for m in rows(owner, account_id)}

    gone = stored["message 2"]
    result = delete(owner, [gone.id], permanent=True)
    assert result["status"] == "success" and result["deleted_count"] == 1
    on_server = server_uidls(imap_user)  # over a separate POP3 connection
    assert gone.pop3_uidl not in on_server and len(on_server) == 3
    assert "message 2" not in subjects(owner, account_id)

    soft = stored["message 3"]
    result = delete(owner, [soft.id], permanent=False)
    assert result["status"] == "success" and result["deleted_count"] == 1
    assert soft.pop3_uidl in server_uidls(imap_user)
    hidden = {m.subject: m for m in rows(owner, account_id)}["message 3"]
    assert hidden.deleted_at is not None

    # Neither comes back with the next sync, and nothing is fetched twice.
    assert sync(owner, account_id)["messages_synced"] == 0
    assert subjects(owner, account_id) == ["message 1", "message 3", "message 4"]


def test_pop3_account_has_no_imap_write_back(client: Any, owner: Caller, imap_user: ImapUser) -> None:
    imap_user.server.append(imap_user.username, "INBOX", [message(1)])
    account_id = create(client, owner, imap_user)
    sync(owner, account_id)
    change = client.patch(
        f"/api/accounts/{account_id}", json={"imap_host": "x.example"}, headers=owner.headers
    )
    assert change.status_code == 422
    probe = client.post(f"/api/accounts/{account_id}/test", headers=owner.headers)
    assert probe.status_code == 200 and probe.get_json()["imap"]["ok"] is True


def test_pop3_flags_move_and_folders_are_409(client: Any, owner: Caller, imap_user: ImapUser) -> None:
    imap_user.server.append(imap_user.username, "INBOX", [message(1)])
    account_id = create(client, owner, imap_user)
    sync(owner, account_id)
    (row,) = rows(owner, account_id)
    h = owner.headers
    answers = [
        client.patch(f"/api/email/messages/{row.id}", json={"is_read": True}, headers=h),
        client.post("/api/email/flags", json={"email_ids": [row.id], "add": ["\\Seen"]}, headers=h),
        client.post("/api/email/move", json={"email_ids": [row.id], "folder_id": row.folder_id}, headers=h),
        client.post(f"/api/accounts/{account_id}/folders", json={"name": "Later"}, headers=h),
        client.delete(f"/api/accounts/{account_id}/folders/{row.folder_id}", headers=h),
    ]
    for answer in answers:
        assert answer.status_code == 409, answer.get_json()
        assert "POP3" in answer.get_json()["error"]["message"]
    assert rows(owner, account_id)[0].is_read is False


def test_pop3_account_sends_without_imap_write_back(
    client: Any, owner: Caller, imap_user: ImapUser, smtp: SmtpTestServer
) -> None:
    smtp.users[imap_user.username] = imap_user.password
    body = {
        **pop3_body(imap_user),
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": "starttls",
        "pinned_cert_pem": smtp.cert_pem,
    }
    response = client.post("/api/accounts", json=body, headers=owner.headers)
    assert response.status_code == 201, response.get_json()
    account = SendAccount(owner, response.get_json()["id"], imap_user.email)
    queued = post_send(client, account, subject="from pop3", body_text="Hi\n")
    assert queued.status_code == 202, queued.get_json()
    result = run_task(account, queued.get_json()["taskId"])
    assert result.successful(), result.traceback
    assert result.result["status"] == "sent"
    assert result.result["write_back"]["sent_copy"] == "skipped"
    [received] = smtp.messages
    assert b"from pop3" in received.data
    with IMAPClient(imap_user.host, imap_user.port, ssl=False, timeout=30) as imap:
        imap.login(imap_user.username, imap_user.password)
        imap.select_folder("Sent", readonly=True)
        assert imap.search("ALL") == []  # no Sent copy APPENDed for a POP3 account


def test_pop3_raw_source_is_retrieved_by_uidl(client: Any, owner: Caller, imap_user: ImapUser) -> None:
    raw = message(1, body="exact bytes\r\n")
    imap_user.server.append(imap_user.username, "INBOX", [message(0), raw])
    account_id = create(client, owner, imap_user)
    sync(owner, account_id)
    row = rows(owner, account_id)[1]
    response = client.get(f"/api/email/messages/{row.id}/raw", headers=owner.headers)
    assert response.status_code == 200
    assert response.data == raw


@pytest.fixture
def delete_after_7_days() -> Iterator[None]:
    saved = os.environ.get("POP3_DELETE_AFTER_DAYS")
    os.environ["POP3_DELETE_AFTER_DAYS"] = "7"
    reset_settings()
    yield
    if saved is None:
        os.environ.pop("POP3_DELETE_AFTER_DAYS", None)
    else:
        os.environ["POP3_DELETE_AFTER_DAYS"] = saved
    reset_settings()


def test_pop3_delete_after_n_days(
    client: Any, owner: Caller, imap_user: ImapUser, delete_after_7_days: None
) -> None:
    imap_user.server.append(imap_user.username, "INBOX", [message(i) for i in range(1, 4)])
    account_id = create(client, owner, imap_user)
    assert sync(owner, account_id)["messages_synced"] == 3
    assert len(server_uidls(imap_user)) == 3  # stored just now: left on the server
    old = rows(owner, account_id)[0]
    with session_scope(owner.tenant_id) as session:
        ten_days_ago = datetime.now(UTC) - timedelta(days=10)
        session.execute(update(Message).where(Message.id == old.id).values(created_at=ten_days_ago))
    assert sync(owner, account_id)["messages_synced"] == 0
    on_server = server_uidls(imap_user)
    assert old.pop3_uidl not in on_server and len(on_server) == 2
    assert len(rows(owner, account_id)) == 3  # kept locally


def test_pop3_starttls_with_pinned_cert_and_refused_line_breaks(
    client: Any, owner: Caller, imap_user: ImapUser
) -> None:
    imap_user.server.append(imap_user.username, "INBOX", [message(1)])
    body = {**pop3_body(imap_user), "pop3_security": "starttls"}
    body["pinned_cert_pem"] = imap_user.server.cert_pem.decode()
    response = client.post("/api/accounts", json=body, headers=owner.headers)
    assert response.status_code == 201, response.get_json()
    account_id = response.get_json()["id"]
    assert sync(owner, account_id)["messages_synced"] == 1

    settings = Pop3Settings(
        imap_user.host, imap_user.server.pop3_port, "none", imap_user.username, "pw\r\nDELE 1"
    )
    with pytest.raises(Pop3AuthError, match="CR, LF"):
        Pop3Session(settings)
    assert len(server_uidls(imap_user)) == 1
