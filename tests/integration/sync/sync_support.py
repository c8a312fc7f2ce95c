"""Shared helpers for the sync integration tests: accounts on a test Dovecot, messages, DB reads."""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass
from typing import Any

from imapclient import IMAPClient
from sqlalchemy import select

from email_service.accounts.service import create_account
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.messages.attachment_model import Attachment
from email_service.messages.folder_model import Folder
from email_service.messages.model import Message
from tests.conftest import Caller
from tests.servers.dovecot import NO_CONDSTORE as NO_CONDSTORE  # for the no-CONDSTORE sync tests
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.mailutils_fixtures import MailutilsUser


@dataclass(frozen=True)
class SyncAccount:
    caller: Caller
    user: ImapUser | MailutilsUser
    account_id: str

    @property
    def ids(self) -> tuple[str, str, str]:
        return self.account_id, self.caller.tenant_id, self.caller.user_id


def make_account(
    caller: Caller, user: ImapUser | MailutilsUser, password: str | None = None, port: int | None = None
) -> SyncAccount:
    data = user.account_data(imap_port=port or user.port, password=password or user.password)
    with session_scope(caller.tenant_id) as session:
        account = create_account(session, get_secret_box(), caller.tenant_id, caller.user_id, data)
        return SyncAccount(caller, user, account.id)


def message(i: int, subject: str | None = None, body: str = "", extra_headers: str = "") -> bytes:
    text = body or f"Hello number {i}.\r\nSecond line of the body.\r\n"
    return (
        f"From: Sender {i} <sender{i}@example.test>\r\n"
        f"To: Someone <someone@example.test>, other@example.test\r\n"
        f"Subject: {subject or f'message {i}'}\r\n"
        f"Date: Mon, 01 Jan 2024 10:{i % 60:02d}:00 +0000\r\n"
        f"Message-ID: <msg{i}@example.test>\r\n"
        f"{extra_headers}"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text
    ).encode()


def imap(user: ImapUser) -> IMAPClient:
    """A raw imapclient connection to change the mailbox behind the engine's back."""
    client = IMAPClient(user.host, user.port, ssl=False, timeout=30)
    client.login(user.username, user.password)
    return client


def rows(account: SyncAccount, folder: str = "INBOX") -> list[Message]:
    with session_scope(account.caller.tenant_id) as session:
        query = (
            select(Message)
            .join(Folder, Folder.id == Message.folder_id)
            .where(Message.account_id == account.account_id, Folder.name == folder)
            .order_by(Message.uid)
        )
        return list(session.scalars(query))


def folder_row(account: SyncAccount, name: str = "INBOX") -> Folder:
    with session_scope(account.caller.tenant_id) as session:
        query = select(Folder).where(Folder.account_id == account.account_id, Folder.name == name)
        return session.scalars(query).one()


def attachments(account: SyncAccount, message_id: str) -> list[Attachment]:
    with session_scope(account.caller.tenant_id) as session:
        return list(session.scalars(select(Attachment).where(Attachment.message_id == message_id)))


def uids(account: SyncAccount, folder: str = "INBOX") -> list[int]:
    return [m.uid for m in rows(account, folder)]


def summary(result: Any) -> tuple[int, int, int]:
    return result.messages_synced, result.messages_updated, result.messages_deleted


class CuttableProxy:
    """A TCP proxy in front of the IMAP server whose connections can be cut mid-transfer."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Reset every open connection, as a network failure would."""
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        self.sockets.clear()

    def close(self) -> None:
        self.cut()
        self.listener.close()
