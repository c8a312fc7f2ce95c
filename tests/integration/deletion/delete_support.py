"""Helpers for the delete/restore tests: synced accounts, server-side views, a command-counting proxy."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

from sqlalchemy import select

from email_service.core.db import session_scope
from email_service.messages.attachment_model import Attachment
from email_service.messages.folder_model import Folder
from email_service.messages.model import Message
from email_service.sync.service import run_account_sync
from tests.conftest import Caller
from tests.integration.sync.sync_support import SyncAccount, imap, make_account, message, rows
from tests.servers.dovecot_fixtures import ImapUser

# Dovecot with MOVE removed, and with MOVE and UIDPLUS removed (SPECIAL-USE kept so Trash is found).
NO_MOVE = "IMAP4rev1 LITERAL+ ENABLE IDLE NAMESPACE UIDPLUS SPECIAL-USE ESEARCH"
NO_MOVE_NO_UIDPLUS = "IMAP4rev1 LITERAL+ ENABLE IDLE NAMESPACE SPECIAL-USE"


def with_attachment(i: int) -> bytes:
    return (
        f"From: a{i}@example.test\r\nTo: b@example.test\r\nSubject: attached {i}\r\n"
        f"Message-ID: <att{i}@example.test>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
        "--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        "--XX\r\nContent-Type: application/octet-stream\r\n"
        'Content-Disposition: attachment; filename="a.bin"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--XX--\r\n"
    ).encode()


def seeded_account(
    caller: Caller, user: ImapUser, inbox: int = 3, deleted_extra: bool = False
) -> SyncAccount:
    """INBOX with `inbox` messages (plus one unrelated \\Deleted message), synced into the DB."""
    user.server.seed_maildir(user.username, "INBOX", [message(i) for i in range(1, inbox + 1)])
    if deleted_extra:
        user.server.seed_maildir(
            user.username, "INBOX", [message(900, "flagged elsewhere")], flags=["\\Deleted"]
        )
    account = make_account(caller, user)
    sync(account)
    return account


def sync(account: SyncAccount) -> Any:
    return run_account_sync(*account.ids)


def rows_in(account: SyncAccount, folder: str) -> list[Message]:
    """Every row of the folder, hidden ones included, by UID."""
    return rows(account, folder)


def visible_subjects(account: SyncAccount, folder: str) -> list[str]:
    return [m.subject for m in rows_in(account, folder) if m.deleted_at is None]


def ids_by_subject(account: SyncAccount, folder: str, *subjects: str) -> list[str]:
    by_subject = {m.subject: m.id for m in rows_in(account, folder)}
    return [by_subject[s] for s in subjects]


def folder_id(account: SyncAccount, name: str) -> str:
    with session_scope(account.caller.tenant_id) as session:
        query = select(Folder.id).where(Folder.account_id == account.account_id, Folder.name == name)
        return str(session.execute(query).scalar_one())


def attachment_count(account: SyncAccount) -> int:
    with session_scope(account.caller.tenant_id) as session:
        query = select(Attachment.id).where(Attachment.tenant_id == account.caller.tenant_id)
        return len(list(session.execute(query).scalars()))


def server_subjects(user: ImapUser, folder: str, criteria: str = "ALL") -> list[str]:
    """Subjects on the server, straight from Dovecot (not through the adapter under test)."""
    client = imap(user)
    try:
        client.select_folder(folder, readonly=True)
        uids = client.search(criteria)
        if not uids:
            return []
        data = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
        heads = [data[u][b"BODY[HEADER.FIELDS (SUBJECT)]"].decode().strip() for u in sorted(data)]
        return sorted(h.removeprefix("Subject: ") for h in heads)
    finally:
        client.logout()


class CountingProxy:
    """A TCP proxy that records every command line the client sends (tag stripped, verb kept).

    `bursts` groups those commands by client turn: a new turn starts when the client writes after
    the server has spoken, so len(bursts) is the number of round trips the client waited for.
    """

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.commands: list[str] = []
        self.bursts: list[list[str]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(self.target)
                turn = {"server_spoke": True}  # per connection; the greeting comes first anyway
                threading.Thread(target=self._pump, args=(client, upstream, turn), daemon=True).start()
                threading.Thread(target=self._pump, args=(upstream, client, turn, False), daemon=True).start()

    def _pump(
        self, src: socket.socket, dst: socket.socket, turn: dict[str, bool], record: bool = True
    ) -> None:
        pending = b""
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if record:
                    if turn["server_spoke"]:
                        turn["server_spoke"] = False
                        self.bursts.append([])
                    pending += data
                    *lines, pending = pending.split(b"\r\n")
                    verbs = [_verb(line) for line in lines if line]
                    self.commands.extend(verbs)
                    self.bursts[-1].extend(verbs)
                else:
                    turn["server_spoke"] = True  # before forwarding: the client's next write follows it
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()


def _verb(line: bytes) -> str:
    """'EZ7 UID STORE 1:1000 +FLAGS.SILENT (\\Deleted)' -> 'UID STORE' (never arguments, e.g. passwords)."""
    words = line.decode("ascii", "replace").upper().split(" ")[1:]
    return " ".join(words[:2] if words[:1] == ["UID"] else words[:1])
