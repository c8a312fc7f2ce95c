"""IMAP adapter for the sync engine and the delete/send tasks: plain dataclasses in, plain dataclasses out.

Usage: `with connect(settings) as imap: imap.select("INBOX"); for m in imap.fetch_messages(uids): ...`
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from types import TracebackType

from imapclient import IMAPClient

from email_service.mail import uidset
from email_service.mail.imap_conn import RawChannel, guard, open_client
from email_service.mail.imap_folders import assign_roles, quote_mailbox
from email_service.mail.imap_types import (
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
from email_service.mail.imap_wire import fetch_items, to_flag_update, to_message

__all__ = [
    "FetchedMessage",
    "FlagUpdate",
    "FolderInfo",
    "FolderStatus",
    "ImapAuthError",
    "ImapCommandError",
    "ImapConnectionError",
    "ImapError",
    "ImapSession",
    "ImapSettings",
    "QresyncResult",
    "SelectInfo",
    "connect",
]

UidsArg = Iterable[int] | str
_SELECT_CODE = re.compile(rb"\* OK \[(UIDVALIDITY|UIDNEXT|HIGHESTMODSEQ) (\d+)\]")
_EXISTS = re.compile(rb"\* (\d+) EXISTS")
_VANISHED = re.compile(rb"\* VANISHED \(EARLIER\) ([\d:,]+)")
_COPYUID = re.compile(rb"\[COPYUID \d+ ([\d:,]+) ([\d:,]+)\]")
_APPENDUID = re.compile(rb"\[APPENDUID \d+ (\d+)\]")
_FLAG = re.compile(r"^\\?[^\s(){%*\"\\\]\x00-\x1f\x7f]+$")


def connect(settings: ImapSettings) -> ImapSession:
    """Open a logged-in session (use it as a context manager so it is always closed)."""
    return ImapSession(open_client(settings))


class ImapSession:
    """A logged-in IMAP connection; any connection error drops it for good (reconnect to retry)."""

    def __init__(self, client: IMAPClient) -> None:
        self._client = client
        self._raw = RawChannel(client._imap)
        self._dead = False
        with self._op("CAPABILITY/ENABLE"):
            self._caps = self._read_capabilities()
            self._enabled = self._enable()

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> ImapSession:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._drop()

    def close(self) -> None:
        """LOGOUT politely; fall back to closing the socket."""
        if self._dead:
            return
        self._dead = True
        try:
            self._client.logout()
        except Exception:
            with suppress(Exception):
                self._client.shutdown()

    def _drop(self) -> None:
        if not self._dead:
            self._dead = True
            with suppress(Exception):
                self._client.shutdown()

    @contextmanager
    def _op(self, what: str) -> Iterator[None]:
        if self._dead:
            raise ImapConnectionError("IMAP session is closed")
        try:
            with guard(what):
                yield
        except ImapConnectionError:
            self._drop()
            raise

    # -- capabilities ------------------------------------------------------------------------

    def _read_capabilities(self) -> frozenset[str]:
        caps: set[str] = set()
        for resp in self._raw.run(b"CAPABILITY"):
            if resp.head.upper().startswith(b"* CAPABILITY "):
                caps.update(resp.head[13:].decode("ascii", "replace").upper().split())
        return frozenset(caps)

    def _enable(self) -> frozenset[str]:
        wanted = [c for c in ("CONDSTORE", "QRESYNC") if c in self._caps]
        if not wanted or "ENABLE" not in self._caps:
            return frozenset()
        enabled: set[str] = set()
        for resp in self._raw.run(b"ENABLE " + " ".join(wanted).encode()):
            if resp.head.upper().startswith(b"* ENABLED"):
                enabled.update(resp.head[9:].decode("ascii").upper().split())
        return frozenset(enabled)

    @property
    def capabilities(self) -> frozenset[str]:
        return self._caps

    @property
    def condstore(self) -> bool:
        return "CONDSTORE" in self._enabled or "QRESYNC" in self._enabled

    @property
    def qresync(self) -> bool:
        return "QRESYNC" in self._enabled

    @property
    def move_supported(self) -> bool:
        return "MOVE" in self._caps

    @property
    def uidplus(self) -> bool:
        return "UIDPLUS" in self._caps

    @property
    def special_use(self) -> bool:
        return "SPECIAL-USE" in self._caps

    @property
    def idle(self) -> bool:
        return "IDLE" in self._caps

    @property
    def esearch(self) -> bool:
        return "ESEARCH" in self._caps

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

    def noop(self) -> None:
        """Keep-alive / poll for server-side changes."""
        with self._op("NOOP"):
            self._client.noop()

    # -- reading -----------------------------------------------------------------------------

    def fetch_messages(self, uids: UidsArg) -> Iterator[FetchedMessage]:
        """Stream full messages (BODY.PEEK[], never sets \\Seen) for a batch of UIDs or a UID range."""
        items = b"(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[]" + (b" MODSEQ)" if self.condstore else b")")
        for seq in _sequence_sets(uids):
            with self._op("UID FETCH"):
                for resp in self._raw.stream(b"UID FETCH " + seq + b" " + items):
                    fetched = fetch_items(resp)
                    message = to_message(fetched) if fetched else None
                    if message is not None:
                        yield message

    def fetch_flags(self, uid_range: UidsArg = "1:*", changedsince: int | None = None) -> list[FlagUpdate]:
        """Current flags (and modseqs); with `changedsince`, only messages changed after that modseq."""
        if changedsince is not None and not self.condstore:
            raise ImapCommandError("CHANGEDSINCE needs CONDSTORE")
        items = b"(UID FLAGS MODSEQ)" if self.condstore else b"(UID FLAGS)"
        if changedsince is not None:
            items += b" (CHANGEDSINCE %d)" % changedsince
        out: list[FlagUpdate] = []
        for seq in _sequence_sets(uid_range):
            with self._op("UID FETCH FLAGS"):
                for resp in self._raw.stream(b"UID FETCH " + seq + b" " + items):
                    fetched = fetch_items(resp)
                    update = to_flag_update(fetched) if fetched else None
                    if update is not None:
                        out.append(update)
        return out

    def search_uids(self, criteria: str = "ALL") -> list[int]:
        """UIDs matching raw IMAP search `criteria` (trusted text); ESEARCH keeps the reply compact."""
        prefix = b"UID SEARCH RETURN (ALL) " if self.esearch else b"UID SEARCH "
        found: list[int] = []
        with self._op("UID SEARCH"):
            for resp in self._raw.stream(prefix + criteria.encode("ascii")):
                head = resp.head
                if head.startswith(b"* ESEARCH") and (match := re.search(rb" ALL ([\d:,]+)", head)):
                    found.extend(uidset.parse_sequence_set(match.group(1).decode()))
                elif head.startswith(b"* SEARCH"):
                    found.extend(int(x) for x in head[8:].split())
        return sorted(set(found))

    # -- writing -----------------------------------------------------------------------------

    def add_flags(self, uids: UidsArg, flags: Iterable[str]) -> None:
        self._store(uids, b"+FLAGS.SILENT", flags)

    def remove_flags(self, uids: UidsArg, flags: Iterable[str]) -> None:
        self._store(uids, b"-FLAGS.SILENT", flags)

    def _store(self, uids: UidsArg, action: bytes, flags: Iterable[str]) -> None:
        flag_list = list(flags)
        for flag in flag_list:
            if not _FLAG.match(flag):
                raise ValueError(f"invalid IMAP flag: {flag!r}")
        joined = " ".join(flag_list).encode("ascii")
        for seq in _sequence_sets(uids):
            with self._op("UID STORE"):
                self._raw.run(b"UID STORE " + seq + b" " + action + b" (" + joined + b")")

    def copy(self, uids: UidsArg, dest: str) -> dict[int, int] | None:
        """UID COPY; returns {old_uid: new_uid} from COPYUID (UIDPLUS) or None when unknown."""
        return self._transfer(b"UID COPY ", uids, dest)

    def move(self, uids: UidsArg, dest: str) -> dict[int, int] | None:
        """UID MOVE when advertised, else COPY + \\Deleted + UID EXPUNGE of exactly those UIDs."""
        if self.move_supported:
            return self._transfer(b"UID MOVE ", uids, dest)
        if not self.uidplus:
            raise ImapCommandError("server has neither MOVE nor UIDPLUS: cannot move without a bare EXPUNGE")
        mapping = self.copy(uids, dest)
        self.add_flags(uids, ["\\Deleted"])
        self.uid_expunge(uids)
        return mapping

    def _transfer(self, verb: bytes, uids: UidsArg, dest: str) -> dict[int, int] | None:
        mapping: dict[int, int] = {}
        seen = False
        for seq in _sequence_sets(uids):
            with self._op(verb.decode().strip()):
                heads = [r.head for r in self._raw.stream(verb + seq + b" " + quote_mailbox(dest))]
                for text in [*heads, self._raw.last_status]:
                    if match := _COPYUID.search(text):
                        seen = True
                        src, dst = (uidset.iter_sequence_set(g.decode()) for g in match.groups())
                        mapping.update(zip(src, dst, strict=False))
        return mapping if seen else None

    def uid_expunge(self, uids: UidsArg) -> None:
        """Expunge exactly these UIDs (UIDPLUS); never falls back to a bare EXPUNGE."""
        if not self.uidplus:
            raise ImapCommandError("UID EXPUNGE needs UIDPLUS")
        for seq in _sequence_sets(uids):
            with self._op("UID EXPUNGE"):
                self._raw.run(b"UID EXPUNGE " + seq)

    def append(
        self, folder: str, raw: bytes, flags: Iterable[str] = (), internaldate: datetime | None = None
    ) -> int | None:
        """APPEND a message; returns its UID when the server reports APPENDUID (UIDPLUS)."""
        with self._op(f"APPEND {folder}"):
            reply = self._client.append(folder, raw, flags=tuple(flags), msg_time=internaldate)
        text = reply if isinstance(reply, bytes) else str(reply).encode()
        match = _APPENDUID.search(text)
        return int(match.group(1)) if match else None


def _sequence_sets(uids: UidsArg) -> Iterator[bytes]:
    """A raw range such as "100:*" passes through; UID collections become short chunked sets."""
    if isinstance(uids, str):
        if not uidset.is_sequence_set(uids):
            raise ValueError(f"not an IMAP sequence set: {uids!r}")
        yield uids.encode("ascii")
        return
    for chunk in uidset.chunks(uids):
        yield chunk.encode("ascii")
