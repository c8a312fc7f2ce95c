"""The `make run` mail sandbox as a newcomer meets it: pymap IMAP + aiosmtpd SMTP in their own process."""

from __future__ import annotations

import asyncio
import email
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from imapclient import IMAPClient

from email_service.sandbox.runner import Sandbox, start_sandbox, stop_sandbox
from email_service.sandbox.settings import SandboxSettings
from tests.conftest import ServerSet, make_caller
from tests.servers.smtp_server import free_port

USER, PASSWORD = "demo@sandbox.local", "demo"


@pytest.fixture
def sandbox_env(monkeypatch: pytest.MonkeyPatch) -> SandboxSettings:
    """Free ports for this test; the rest are the defaults a newcomer gets."""
    imap_port, smtp_port = free_port(), free_port()
    monkeypatch.setenv("SANDBOX", "on")
    monkeypatch.setenv("SANDBOX_IMAP_PORT", str(imap_port))
    monkeypatch.setenv("SANDBOX_SMTP_PORT", str(smtp_port))
    return SandboxSettings(var_dir=Path("."), imap_port=imap_port, smtp_port=smtp_port)


@pytest.fixture
def sandbox(sandbox_env: SandboxSettings, tmp_path: Path) -> Iterator[Sandbox]:
    running = start_sandbox(tmp_path)
    yield running
    stop_sandbox(running)


def imap(settings: SandboxSettings) -> IMAPClient:
    client = IMAPClient("127.0.0.1", settings.imap_port, ssl=False, timeout=10)
    client.login(USER, PASSWORD)
    return client


def send(settings: SandboxSettings, to: str, subject: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = USER, to, subject
    msg.set_content("sent through the sandbox")
    asyncio.run(
        aiosmtplib.send(
            msg,
            hostname="127.0.0.1",
            port=settings.smtp_port,
            username=USER,
            password=PASSWORD,
            start_tls=False,
        )
    )


def test_login_lists_folders_and_reads_seeded_mail(sandbox: Sandbox, sandbox_env: SandboxSettings) -> None:
    client = imap(sandbox_env)
    names = {name for _flags, _delim, name in client.list_folders()}
    assert {"INBOX", "Sent", "Trash", "Junk"} <= names
    assert {b"UIDPLUS", b"MOVE"} <= set(client.capabilities())
    client.select_folder("INBOX")
    assert len(client.search("ALL")) >= 20
    assert client.search(["FLAGGED", "UNSEEN"]), "one unread flagged message is seeded"
    [uid] = client.search(["HEADER", "Message-ID", "<seed-attach@sandbox.local>"])
    raw = client.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "Q3 report (CSV attached)"
    assert [part.get_filename() for part in parsed.iter_attachments()] == ["q3-report.csv"]
    client.logout()


def test_smtp_delivers_into_inbox_with_auth(sandbox: Sandbox, sandbox_env: SandboxSettings) -> None:
    send(sandbox_env, USER, "note to self")
    send(sandbox_env, "someone@example.com", "to anyone")
    client = imap(sandbox_env)
    client.select_folder("INBOX")
    assert client.search(["SUBJECT", "note to self", "UNSEEN"])
    assert client.search(["SUBJECT", "to anyone"]), "the sandbox is a catch-all"
    client.logout()


def test_smtp_refuses_bad_password_and_anonymous_mail(sandbox: Sandbox, sandbox_env: SandboxSettings) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = USER, USER, "nope"
    msg.set_content("x")
    port = sandbox_env.smtp_port
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        asyncio.run(aiosmtplib.send(msg, hostname="127.0.0.1", port=port, username=USER, password="wrong"))
    with pytest.raises(aiosmtplib.SMTPException):
        asyncio.run(aiosmtplib.send(msg, hostname="127.0.0.1", port=port, start_tls=False))


def test_restart_keeps_mailbox_without_reseeding(sandbox_env: SandboxSettings, tmp_path: Path) -> None:
    first = start_sandbox(tmp_path)
    try:
        send(sandbox_env, USER, "survives restart")
        client = imap(sandbox_env)
        client.select_folder("INBOX")
        client.delete_messages(client.search(["HEADER", "Message-ID", "<seed-note-0@sandbox.local>"]))
        client.expunge()
        count = len(client.search("ALL"))
        client.logout()
    finally:
        stop_sandbox(first)
    assert inbox_count_after_restart(sandbox_env, tmp_path) == count, "deleted demo mail stays deleted"
    (tmp_path / "sandbox" / "seeded").unlink()
    assert inbox_count_after_restart(sandbox_env, tmp_path) == count + 1, (
        "re-seeding adds only what is missing"
    )


def inbox_count_after_restart(settings: SandboxSettings, var: Path) -> int:
    running = start_sandbox(var)
    try:
        client = imap(settings)
        client.select_folder("INBOX")
        assert client.search(["SUBJECT", "survives restart"])
        count = len(client.search("ALL"))
        client.logout()
        return count
    finally:
        stop_sandbox(running)


def test_sandbox_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SANDBOX", "off")
    off = start_sandbox(tmp_path, token_tenant="demo", token_user="demo")
    assert off.processes == []
    assert "off" in off.describe()


def test_demo_account_is_created_once_and_works(
    clean_db: ServerSet, sandbox_env: SandboxSettings, tmp_path: Path
) -> None:
    from email_service.accounts.service import account_password, list_accounts
    from email_service.core.crypto import get_secret_box
    from email_service.core.db import session_scope

    caller = make_caller()
    ids = []
    for _ in range(2):
        running = start_sandbox(tmp_path, token_tenant=caller.tenant_id, token_user=caller.user_id)
        stop_sandbox(running)
        ids.append(running.account_id)
        assert f"account_id={running.account_id}" in running.describe()
    assert ids[0] and ids[0] == ids[1]
    with session_scope(caller.tenant_id) as session:
        [account] = list_accounts(session, caller.tenant_id, caller.user_id)
        assert (account.imap_port, account.imap_security) == (sandbox_env.imap_port, "none")
        assert (account.smtp_port, account.username) == (sandbox_env.smtp_port, USER)
        assert account_password(get_secret_box(), account) == PASSWORD
