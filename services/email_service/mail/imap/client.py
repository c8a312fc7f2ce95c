"""IMAP adapter for the sync engine and the delete/send tasks: plain dataclasses in, plain dataclasses out.

Usage: `with connect(settings) as imap: imap.select("INBOX"); for m in imap.fetch_messages(uids): ...`
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import ExitStack, suppress

from email_service.mail.imap import uidset
from email_service.mail.imap.base import CommandLimit
from email_service.mail.imap.conn import open_client
from email_service.mail.imap.folders import assign_roles, quote_mailbox
from email_service.mail.imap.messages import MessageOps
from email_service.mail.imap.types import (
    FetchedMessage,
    FlagUpdate,
    FolderInfo,
    FolderStatus,
    ImapAuthError,
    ImapCommandError,
    ImapConnectionError,
    ImapError,
    ImapSettings,
    QresyncResult,
    SelectInfo,
)
from email_service.mail.imap.wire import fetch_items, to_flag_update

__all__ = [
    "FetchedMessage",
    "FlagUpdate",
    "FolderInfo",
    "FolderStatus",
    "ImapAuthError",
    "ImapCommandError",
    "ImapConnectionError",
    "ImapConnector",
    "ImapError",
    "ImapSession",
    "ImapSettings",
    "QresyncResult",
    "SelectInfo",
    "connect",
]

_SELECT_CODE = re.compile(rb"\* OK \[(UIDVALIDITY|UIDNEXT|HIGHESTMODSEQ) (\d+)\]")
_EXISTS = re.compile(rb"\* (\d+) EXISTS")
_VANISHED = re.compile(rb"\* VANISHED \(EARLIER\) ([\d:,]+)")


# How a use case opens a session: `connect` itself, or a test's stand-in with the same signature.
ImapConnector = Callable[[ImapSettings], "ImapSession"]


def connect(settings: ImapSettings) -> ImapSession:
    """Open a logged-in session (use it as a context manager so it is always closed). The settings'
    slot, when set, is held from before the socket opens until the session is closed or dropped."""
    held = ExitStack()
    if settings.slot is not None:
        held.enter_context(settings.slot())
    try:
        client = open_client(settings)
    except BaseException:
        held.close()
        raise
    try:
        limit = CommandLimit(settings.command_timeout, settings.min_bytes_per_second)
        return ImapSession(client, limit, on_end=held.close)
    except BaseException:
        with suppress(Exception):
            client.shutdown()
        held.close()
        raise


class ImapSession(MessageOps):
    """A logged-in session: folder operations here, message operations and lifecycle in the bases."""

    # -- folders -----------------------------------------------------------------------------

    def list_folders(self) -> list[FolderInfo]:
        """Selectable folders with roles (SPECIAL-USE flags first, well-known names as fallback)."""
        with self._op("LIST"):
            rows = self._client.list_folders()
        decoded = [
            (
                tuple(f.decode("ascii", "replace") for f in flags),
                delim.decode("ascii") if isinstance(delim, bytes) else delim,
                str(name),
            )
            for flags, delim, name in rows
        ]
        return assign_roles(decoded)

    def select(self, name: str, readonly: bool = True) -> SelectInfo:
        """SELECT/EXAMINE a folder; highestmodseq is None without CONDSTORE (or with NOMODSEQ)."""
        return self._select(name, readonly, b"").info

    def select_qresync(
        self, name: str, uidvalidity: int, modseq: int, known_uids: str | None = None, readonly: bool = True
    ) -> QresyncResult:
        """SELECT with QRESYNC: also returns UIDs expunged and flags changed since `modseq`.

        When the folder's UIDVALIDITY differs from `uidvalidity` the server ignores the resync data.
        """
        if not self.qresync:
            raise ImapCommandError("server does not support QRESYNC")
        known = f" {known_uids}" if known_uids and uidset.is_sequence_set(known_uids) else ""
        return self._select(name, readonly, f" (QRESYNC ({uidvalidity} {modseq}{known}))".encode())

    def _select(self, name: str, readonly: bool, params: bytes) -> QresyncResult:
        verb = b"EXAMINE " if readonly else b"SELECT "
        codes: dict[bytes, int] = {}
        exists = 0
        vanished: list[int] = []
        changed: list[FlagUpdate] = []
        imap = self._client._imap
        with self._op(f"SELECT {name}"):
            imap.state = "AUTH"  # a failed SELECT leaves no folder selected
            for resp in self._raw.stream(verb + quote_mailbox(name) + params):
                head = resp.head
                if match := _SELECT_CODE.match(head):
                    codes[match.group(1)] = int(match.group(2))
                elif match := _EXISTS.match(head):
                    exists = int(match.group(1))
                elif match := _VANISHED.match(head):
                    vanished.extend(uidset.parse_sequence_set(match.group(1).decode()))
                elif (items := fetch_items(resp)) and (update := to_flag_update(items)):
                    changed.append(update)
            imap.state = "SELECTED"
        uidnext = codes.get(b"UIDNEXT") or self.status(name).uidnext
        info = SelectInfo(codes[b"UIDVALIDITY"], uidnext, codes.get(b"HIGHESTMODSEQ"), exists)
        return QresyncResult(info=info, vanished=sorted(vanished), changed=changed)

    def status(self, name: str) -> FolderStatus:
        """STATUS counters without selecting the folder."""
        what = ["MESSAGES", "UNSEEN", "UIDVALIDITY", "UIDNEXT"]
        if "CONDSTORE" in self._caps:
            what.append("HIGHESTMODSEQ")
        with self._op(f"STATUS {name}"):
            data = {k.upper(): int(v) for k, v in self._client.folder_status(name, what).items()}
        return FolderStatus(
            messages=data[b"MESSAGES"],
            unseen=data[b"UNSEEN"],
            uidvalidity=data[b"UIDVALIDITY"],
            uidnext=data[b"UIDNEXT"],
            highestmodseq=data.get(b"HIGHESTMODSEQ"),
        )

    def create_folder(self, name: str) -> None:
        with self._op(f"CREATE {name}"):
            self._client.create_folder(name)

    def delete_folder(self, name: str) -> None:
        with self._op(f"DELETE {name}"):
            self._client.delete_folder(name)

    def rename_folder(self, old: str, new: str) -> None:
        """RENAME; the server moves the folder's children with it."""
        with self._op(f"RENAME {old}"):
            self._client.rename_folder(old, new)

    def folder_exists(self, name: str) -> bool:
        """Whether LIST shows exactly this name (selectable or not)."""
        with self._op(f"LIST {name}"):
            rows = self._client.list_folders("", name)
        return any(str(listed) == name for _flags, _delim, listed in rows)

    def noop(self) -> None:
        """Keep-alive / poll for server-side changes."""
        with self._op("NOOP"):
            self._client.noop()
