"""Helpers for the Junk tests: a phishing and a plain message, an account, moves by another client."""

from __future__ import annotations

from sqlalchemy import select, update

from email_service.accounts.model import EmailAccount
from email_service.core.db import session_scope
from email_service.spam.user_model_row import UserSpamModel
from tests.conftest import Caller
from tests.integration.deletion.delete_support import rows_in, sync
from tests.integration.sync.sync_support import SyncAccount, imap, make_account, message
from tests.servers.dovecot_fixtures import ImapUser

PHISH_SUBJECT = "Action required: your password expires today"
PHISH_ID = "<a1@secure-m365-support.top>"


def phish() -> bytes:
    """Credential phishing the shipped model flags (IP-literal link, spoofed link text, SPF fail)."""
    html = (
        "<p>Dear user, your mailbox password expires today. Verify your account within 24 hours.</p>"
        "<a href='http://185.243.112.9/owa/login.php'>https://outlook.office.com/login</a>"
    )
    return (
        "From: Microsoft 365 Admin <no-reply@secure-m365-support.top>\r\n"
        "To: someone@example.test\r\n"
        f"Subject: {PHISH_SUBJECT}\r\n"
        "Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
        f"Message-ID: {PHISH_ID}\r\n"
        "Authentication-Results: mx.example.org; spf=fail smtp.mailfrom=x.top; dmarc=fail\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n"
    ).encode()


def plain() -> bytes:
    return message(1, "Notes from Tuesday's planning meeting", "Hi all, the next review is on Friday.\r\n")


def junk_account(caller: Caller, user: ImapUser, opted_in: bool) -> SyncAccount:
    """INBOX holds the phishing message and a plain one, synced; Junk exists (SPECIAL-USE) and is empty."""
    user.server.seed_maildir(user.username, "INBOX", [phish(), plain()])
    account = make_account(caller, user)
    with session_scope(caller.tenant_id) as session:
        session.execute(
            update(EmailAccount)
            .where(EmailAccount.id == account.account_id)
            .values(move_spam_to_junk=opted_in)
        )
    sync(account)
    return account


def labels(caller: Caller) -> tuple[int, int]:
    """(spam, ham) labels of the caller's own model; (0, 0) before any feedback."""
    with session_scope(caller.tenant_id) as session:
        query = select(UserSpamModel).where(
            UserSpamModel.tenant_id == caller.tenant_id, UserSpamModel.user_id == caller.user_id
        )
        row = session.scalars(query).first()
        return (row.spam_labels, row.ham_labels) if row is not None else (0, 0)


def move_by_subject(user: ImapUser, source: str, subject: str, dest: str, copy: bool = False) -> None:
    """What another mail client does: UID MOVE (or COPY) straight on the server."""
    client = imap(user)
    try:
        client.select_folder(source)
        uids = client.search(["SUBJECT", subject])
        assert len(uids) == 1, f"{subject!r} in {source}: {uids}"
        if copy:
            client.copy(uids, dest)
        else:
            client.move(uids, dest)
    finally:
        client.logout()


def server_uids(user: ImapUser, folder: str) -> list[int]:
    client = imap(user)
    try:
        client.select_folder(folder, readonly=True)
        return sorted(client.search("ALL"))
    finally:
        client.logout()


def row_ids(account: SyncAccount) -> dict[str, list[str]]:
    """Row ids per folder, to show nothing was inserted or deleted."""
    return {f: sorted(m.id for m in rows_in(account, f)) for f in ("INBOX", "Junk", "Archive")}
