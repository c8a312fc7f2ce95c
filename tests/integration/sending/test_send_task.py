"""send_email against the real SMTP test server and Dovecot: delivered bytes, retries, exactly-once,
scheduled cancellation, the copy to Sent and replies."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any

import pytest
from imapclient import IMAPClient

from email_service.core.config import reset_settings
from email_service.core.db import session_scope
from email_service.messages.model import Message
from email_service.sending.account_lock import account_send_lock
from email_service.sending.model import OutboxMessage
from email_service.sending.service import SendJob
from email_service.sync.service import run_account_sync
from tests.conftest import Caller
from tests.integration.sending.send_support import (
    SendAccount,
    claim,
    make_send_account,
    outbox_row,
    parse,
    post_send,
    run_task,
)
from tests.servers.dovecot_fixtures import DovecotFactory, ImapUser, new_user
from tests.servers.smtp_server import SmtpTestServer

BOB, CAROL, HIDDEN = "bob@example.test", "carol@example.test", "hidden@example.test"


@pytest.fixture
def account(owner: Caller, smtp: SmtpTestServer, imap_user: ImapUser) -> SendAccount:
    return make_send_account(owner, smtp, imap_user)


def imap(user: ImapUser) -> IMAPClient:
    client = IMAPClient(user.host, user.port, ssl=False, timeout=30)
    client.login(user.username, user.password)
    return client


def sent_folder(user: ImapUser) -> list[tuple[bytes, tuple[bytes, ...]]]:
    """(raw bytes, flags) of every message in Dovecot's Sent folder."""
    with imap(user) as client:
        client.select_folder("Sent", readonly=True)
        fetched = client.fetch(client.search("ALL"), ["BODY.PEEK[]", "FLAGS"])
        return [(data[b"BODY[]"], tuple(data[b"FLAGS"])) for _uid, data in sorted(fetched.items())]


def queue(client: Any, account: SendAccount, **fields: Any) -> str:
    response = post_send(client, account, **fields)
    assert response.status_code == 202, response.get_json()
    return str(response.get_json()["taskId"])


def send_changes(client: Any, account: SendAccount) -> list[tuple[str, str]]:
    """The send outcomes in the caller's changes feed: (type, outbox id = taskId)."""
    changes = client.get("/api/changes", headers=account.caller.headers).get_json()["changes"]
    return [(c["type"], c["object_id"]) for c in changes if c["type"].startswith("send.")]


def test_delivers_exact_bytes_bcc_hidden_and_copies_to_sent(
    client: Any, account: SendAccount, smtp: SmtpTestServer, imap_user: ImapUser
) -> None:
    pdf = bytes(range(256)) * 20
    files = {"file": (BytesIO(pdf), "Bericht ü.pdf", "application/pdf")}
    upload = client.post(
        "/api/attachments", data=files, headers=account.caller.headers, content_type="multipart/form-data"
    ).get_json()
    task_id = queue(
        client,
        account,
        to=[f"Bob Müller <{BOB}>"],
        cc=[CAROL],
        bcc=[HIDDEN],
        subject="Grüße ✓ report",
        body_text="Hello Bob\n",
        body_html="<p>Hello <b>Bob</b></p>",
        attachment_ids=[upload["id"]],
    )
    result = run_task(account, task_id)
    assert result.successful(), result.traceback
    value = result.result
    assert (value["status"], value["recipients_sent"]) == ("sent", 3)
    assert value["sent_timestamp"] > 1_600_000_000_000
    [received] = smtp.messages
    row = outbox_row(account.caller, task_id)
    assert row.status == "sent" and row.mime == received.data and row.attempts == 1
    assert received.rcpt_tos == (BOB, CAROL, HIDDEN) and received.mail_from == account.email
    delivered = parse(received.data)
    assert "Bcc" not in delivered and HIDDEN.encode() not in received.data
    assert delivered["Subject"] == "Grüße ✓ report"
    assert delivered["Message-ID"] == value["message_id"] == row.message_id_header
    assert delivered["To"].addresses[0].display_name == "Bob Müller"
    assert delivered["From"].addresses[0].display_name == "Ålice Sender"
    [attachment] = list(delivered.iter_attachments())
    assert attachment.get_filename() == "Bericht ü.pdf" and attachment.get_content() == pdf
    html = delivered.get_body(("html",))
    assert html is not None and html.get_content().strip() == "<p>Hello <b>Bob</b></p>"
    [(copy, flags)] = sent_folder(imap_user)
    assert copy == received.data and b"\\Seen" in flags
    assert value["write_back"]["sent_copy"] == "saved"


def test_same_task_delivered_twice_sends_once(
    client: Any, account: SendAccount, smtp: SmtpTestServer, imap_user: ImapUser
) -> None:
    task_id = queue(client, account, subject="once")
    first = run_task(account, task_id).result
    connections = smtp.connections
    second = run_task(account, task_id).result
    assert len(smtp.messages) == 1 and smtp.connections == connections
    assert second["status"] == "sent" and second["message_id"] == first["message_id"]
    assert second["sent_timestamp"] == first["sent_timestamp"]
    assert len(sent_folder(imap_user)) == 1


def test_451_then_success_delivers_once_with_the_same_bytes(
    client: Any, account: SendAccount, smtp: SmtpTestServer
) -> None:
    smtp.script_reply("DATA", "451 4.3.0 try again later")
    task_id = queue(client, account, subject="retry me")
    result = run_task(account, task_id)
    assert result.successful(), result.traceback
    [received] = smtp.messages
    row = outbox_row(account.caller, task_id)
    assert (row.status, row.attempts) == ("sent", 2)
    assert received.data == row.mime
    assert send_changes(client, account) == [("send.sent", task_id)]  # once, not once per attempt


def test_550_fails_at_once_with_the_reply_kept(
    client: Any, account: SendAccount, smtp: SmtpTestServer
) -> None:
    smtp.script_reply("DATA", "550 5.7.1 message rejected")
    task_id = queue(client, account)
    result = run_task(account, task_id)
    assert result.failed() and type(result.result).__name__ == "SendFailed"
    row = outbox_row(account.caller, task_id)
    assert (row.status, row.attempts, smtp.messages) == ("failed", 1, [])
    assert row.result is not None and row.result["code"] == 550 and "rejected" in (row.error or "")
    connections = smtp.connections
    assert run_task(account, task_id).failed() and smtp.connections == connections
    assert send_changes(client, account) == [("send.failed", task_id)]


def test_partial_acceptance_and_all_refused(client: Any, account: SendAccount, smtp: SmtpTestServer) -> None:
    smtp.script_reply("RCPT", "550 5.1.1 no such user", rcpt=CAROL)
    partial = run_task(account, queue(client, account, to=[BOB, CAROL])).result
    assert partial["status"] == "partially_sent" and partial["recipients_sent"] == 1
    assert partial["refused"][CAROL]["code"] == 550
    assert smtp.messages[0].rcpt_tos == (BOB,)
    smtp.script_reply("RCPT", "550 5.1.1 no such user", rcpt=BOB)
    task_id = queue(client, account, to=[BOB])
    assert run_task(account, task_id).failed()
    row = outbox_row(account.caller, task_id)
    assert row.status == "failed" and row.result is not None and row.result["refused"][BOB]["code"] == 550


def test_cancelled_scheduled_send_sends_nothing(
    client: Any, account: SendAccount, smtp: SmtpTestServer
) -> None:
    task_id = queue(client, account, send_at=(datetime.now(UTC) + timedelta(days=30)).isoformat())
    assert client.delete(f"/api/email/outbox/{task_id}", headers=account.caller.headers).status_code == 200
    result = run_task(account, task_id).result
    assert result["status"] == "cancelled" and smtp.messages == [] and smtp.connections == 0
    assert outbox_row(account.caller, task_id).status == "cancelled"


def test_no_reply_after_data_is_uncertain_and_never_resent(
    client: Any, account: SendAccount, smtp: SmtpTestServer
) -> None:
    smtp.script_reply("DATA", None, close=True)
    task_id = queue(client, account)
    assert run_task(account, task_id).result["status"] == "uncertain"
    assert run_task(account, task_id).result["status"] == "uncertain"
    assert len(smtp.messages) == 1 and outbox_row(account.caller, task_id).status == "uncertain"


def claim_and_crash(account: SendAccount, task_id: str) -> OutboxMessage:
    """Commit 'sending' as a run does before SMTP, then stop: a worker killed mid-send."""
    job = SendJob(task_id, account.account_id, account.caller.tenant_id, account.caller.user_id)
    with account_send_lock(account.account_id) as lock:
        assert lock.acquire()
        claim(job)
    return outbox_row(account.caller, task_id)


def test_redelivery_after_a_crash_mid_send_is_not_resent(
    client: Any, account: SendAccount, smtp: SmtpTestServer
) -> None:
    task_id = queue(client, account)
    assert claim_and_crash(account, task_id).status == "sending"
    result = run_task(account, task_id).result
    assert result["status"] == "uncertain" and smtp.messages == []
    assert outbox_row(account.caller, task_id).status == "uncertain"


def test_redelivery_after_a_crash_finds_the_copy_in_sent(
    client: Any, account: SendAccount, smtp: SmtpTestServer, imap_user: ImapUser
) -> None:
    task_id = queue(client, account)
    row = claim_and_crash(account, task_id)
    assert row.mime is not None
    with imap(imap_user) as server:
        server.append("Sent", row.mime, flags=["\\Seen"])
    result = run_task(account, task_id).result
    assert result["status"] == "sent" and result["recovered"] is True and smtp.messages == []


@pytest.fixture
def short_lock_wait() -> Iterator[None]:
    """SEND_LOCK_WAIT_SECONDS=1, read by the task through the settings (as an operator would set it)."""
    saved = os.environ.get("SEND_LOCK_WAIT_SECONDS")
    os.environ["SEND_LOCK_WAIT_SECONDS"] = "1"
    reset_settings()
    yield
    if saved is None:
        os.environ.pop("SEND_LOCK_WAIT_SECONDS", None)
    else:
        os.environ["SEND_LOCK_WAIT_SECONDS"] = saved
    reset_settings()


def test_a_run_that_finds_the_account_busy_retries_and_sends_nothing(
    short_lock_wait: None, client: Any, account: SendAccount, smtp: SmtpTestServer
) -> None:
    task_id = queue(client, account)
    with account_send_lock(account.account_id) as lock:  # another live drainer of this account
        assert lock.acquire()
        result = run_task(account, task_id)
        assert result.failed() and type(result.result).__name__ == "SendBusy"
    assert smtp.messages == [] and outbox_row(account.caller, task_id).status == "queued"
    assert run_task(account, task_id).result["status"] == "sent"


def test_provider_saves_sent_skips_the_copy(
    client: Any, owner: Caller, smtp: SmtpTestServer, imap_user: ImapUser
) -> None:
    account = make_send_account(owner, smtp, imap_user, provider_saves_sent=True)
    result = run_task(account, queue(client, account)).result
    assert result["status"] == "sent" and result["write_back"]["sent_copy"] == "skipped"
    assert sent_folder(imap_user) == []


def test_a_server_with_x_gm_ext_1_gets_no_sent_copy(
    client: Any, owner: Caller, smtp: SmtpTestServer, dovecot_factory: DovecotFactory
) -> None:
    """Gmail saves what its SMTP sends: no APPEND even when the account does not say provider_saves_sent."""
    imap_user = new_user(dovecot_factory(capabilities="+X-GM-EXT-1"))
    account = make_send_account(owner, smtp, imap_user, provider_saves_sent=False)
    result = run_task(account, queue(client, account)).result
    assert result["status"] == "sent" and result["write_back"]["sent_copy"] == "skipped"
    assert len(smtp.messages) == 1 and sent_folder(imap_user) == []


def test_failed_sent_copy_does_not_fail_the_send(client: Any, owner: Caller, smtp: SmtpTestServer) -> None:
    account = make_send_account(owner, smtp)  # its IMAP port refuses connections
    task_id = queue(client, account)
    result = run_task(account, task_id)
    assert result.successful() and result.result["write_back"]["sent_copy"] == "failed"
    assert outbox_row(account.caller, task_id).status == "sent" and len(smtp.messages) == 1


PARENT = (
    b"From: Carol <carol@example.test>\r\nTo: me@example.test\r\nSubject: Question\r\n"
    b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\nMessage-ID: <parent-1@example.test>\r\n"
    b"References: <root-0@example.test>\r\nIn-Reply-To: <root-0@example.test>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nCan you answer?\r\n"
)


def test_reply_threads_and_marks_the_parent_answered(
    client: Any, account: SendAccount, smtp: SmtpTestServer, imap_user: ImapUser
) -> None:
    with imap(imap_user) as server:
        server.append("INBOX", PARENT)
    run_account_sync(account.account_id, account.caller.tenant_id, account.caller.user_id)
    with session_scope(account.caller.tenant_id) as session:
        parent = session.query(Message).filter_by(message_id_header="parent-1@example.test").one()
        parent_id, parent_uid = parent.id, parent.uid
    task_id = queue(client, account, to=[CAROL], subject="Re: Question", in_reply_to=parent_id)
    result = run_task(account, task_id).result
    assert result["write_back"] == {"sent_copy": "saved", "parent_flag": "set"}
    delivered = parse(smtp.messages[0].data)
    assert delivered["In-Reply-To"] == "<parent-1@example.test>"
    assert delivered["References"] == "<root-0@example.test> <parent-1@example.test>"
    with session_scope(account.caller.tenant_id) as session:
        stored = session.get(Message, parent_id)
        assert stored is not None and stored.is_answered and "\\Answered" in stored.flags
    with imap(imap_user) as server:
        server.select_folder("INBOX", readonly=True)
        assert b"\\Answered" in server.get_flags([parent_uid])[parent_uid]


def test_batch_sends_each_row_once_over_one_connection(
    client: Any, account: SendAccount, smtp: SmtpTestServer
) -> None:
    from email_service.sending.delivery import SmtpConnections
    from email_service.sending.drainer import send_outbox_batch

    first = queue(client, account, subject="batch 0")
    run_task(account, first)  # alone in the outbox, so it is sent by itself
    ids = [first] + [queue(client, account, subject=f"batch {i}") for i in range(1, 4)]
    owner = (account.account_id, account.caller.tenant_id, account.caller.user_id)
    jobs = [SendJob(i, *owner) for i in ids]
    pool = SmtpConnections()
    connections = smtp.connections
    try:
        results = send_outbox_batch(account.caller.tenant_id, jobs, pool)
    finally:
        pool.close()
    assert [results[i]["status"] for i in ids] == ["sent"] * 4
    assert len(smtp.messages) == 4 and smtp.connections == connections + 1
    assert {outbox_row(account.caller, i).status for i in ids} == {"sent"}
