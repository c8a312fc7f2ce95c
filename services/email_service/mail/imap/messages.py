"""Message operations of an IMAP session: streaming FETCH, flags, search, copy/move/expunge, append."""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Iterator
from contextlib import closing
from datetime import datetime

from email_service.mail.imap import gmail as gmail_items
from email_service.mail.imap import uidset
from email_service.mail.imap.base import SessionBase
from email_service.mail.imap.folders import quote_mailbox
from email_service.mail.imap.types import FetchedMessage, FlagUpdate, ImapCommandError
from email_service.mail.imap.wire import fetch_items, to_flag_update, to_message, to_uid

UidsArg = Iterable[int] | str
_COPYUID = re.compile(rb"\[COPYUID \d+ ([\d:,]+) ([\d:,]+)\]")
_APPENDUID = re.compile(rb"\[APPENDUID \d+ (\d+)\]")
_FLAG = re.compile(r"^\\?[^\s(){%*\"\\\]\x00-\x1f\x7f]+$")


class MessageOps(SessionBase):
    """UID-based reads and write-backs; UID collections are sent as chunked ranges (64 KB line limit)."""

    # -- reading -----------------------------------------------------------------------------

    def fetch_messages(self, uids: UidsArg) -> Generator[FetchedMessage, None, None]:
        """Stream full messages (BODY.PEEK[], never sets \\Seen) for a batch of UIDs or a UID range."""
        items = message_items(condstore=self.condstore, gmail=self.gmail_ext)
        for seq in _sequence_sets(uids):
            # closing(): if the caller stops early, the rest of the response is drained right away
            with (
                self._op("UID FETCH"),
                closing(self._raw.stream(b"UID FETCH " + seq + b" " + items)) as stream,
            ):
                for resp in stream:
                    fetched = fetch_items(resp)
                    message = to_message(fetched) if fetched else None
                    if message is not None:
                        yield message

    def fetch_flags(self, uid_range: UidsArg = "1:*", changedsince: int | None = None) -> list[FlagUpdate]:
        """Current flags (and modseqs); with `changedsince`, only messages changed after that modseq."""
        if changedsince is not None and not self.condstore:
            raise ImapCommandError("CHANGEDSINCE needs CONDSTORE")
        items = flag_items(condstore=self.condstore, gmail=self.gmail_ext)
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

    def all_uids(self, exists: int) -> list[int]:
        """Every UID of the selected folder of `exists` messages, as complete as the server lets us see.

        UID SEARCH ALL first; when it answers fewer UIDs than EXISTS (GNU Mailutils' imap4d answers
        some UID SEARCHes with nothing), FETCH 1:* (UID) by sequence number fills in the rest.
        """
        found = self.search_uids("ALL")
        if exists <= 0 or len(found) >= exists:
            return found
        return sorted(set(found).union(self.fetch_uids()))

    def fetch_uids(self) -> list[int]:
        """UIDs of every message of the selected (non-empty) folder by sequence number: FETCH 1:* (UID)."""
        found: list[int] = []
        with self._op("FETCH UID"):
            for resp in self._raw.stream(b"FETCH 1:* (UID)"):
                fetched = fetch_items(resp)
                uid = to_uid(fetched) if fetched else None
                if uid is not None:
                    found.append(uid)
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
        mapping = self.copy(uids, dest)  # only once the copy is confirmed may the originals go
        self.expunge_uids(uids)
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

    def expunge_uids(self, uids: UidsArg) -> None:
        """\\Deleted + UID EXPUNGE of exactly these UIDs, both written before reading: one round trip a chunk.

        A failed STORE fails the call even when the EXPUNGE succeeded (it only removed UIDs that were
        already \\Deleted, which is harmless); the server runs pipelined commands in order.
        """
        if not self.uidplus:
            raise ImapCommandError("UID EXPUNGE needs UIDPLUS")
        for seq in _sequence_sets(uids):
            commands = (b"UID STORE " + seq + b" +FLAGS.SILENT (\\Deleted)", b"UID EXPUNGE " + seq)
            with self._op("UID STORE + UID EXPUNGE"):
                statuses = self._raw.pipeline(commands)
            for command, status in zip(commands, statuses, strict=True):
                if not status.startswith(b"OK"):
                    verb = b" ".join(command.split(b" ")[:2]).decode()
                    raise ImapCommandError(f"{verb} failed: {status.decode('utf-8', 'replace')}")

    def expunge_all(self) -> None:
        """Bare EXPUNGE of every \\Deleted message: callers must first prove no others are flagged."""
        with self._op("EXPUNGE"):
            self._raw.run(b"EXPUNGE")

    def append(
        self, folder: str, raw: bytes, flags: Iterable[str] = (), internaldate: datetime | None = None
    ) -> int | None:
        """APPEND a message; returns its UID when the server reports APPENDUID (UIDPLUS)."""
        with self._op(f"APPEND {folder}", sending=len(raw)):
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


def message_items(condstore: bool, gmail: bool) -> bytes:
    """The FETCH items of a full message: MODSEQ with CONDSTORE, Gmail's ids and labels with X-GM-EXT-1."""
    extra = (b" MODSEQ" if condstore else b"") + (gmail_items.MESSAGE_ITEMS if gmail else b"")
    return b"(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[]" + extra + b")"


def flag_items(condstore: bool, gmail: bool) -> bytes:
    """The FETCH items of a flags scan: Gmail's labels ride along, so a resync picks up label changes."""
    extra = (b" MODSEQ" if condstore else b"") + (gmail_items.FLAG_ITEMS if gmail else b"")
    return b"(UID FLAGS" + extra + b")"
