"""IMAP side of delete/restore for one folder: move with new UIDs, expunge exactly some UIDs.

Plain values in and out (UIDs, folder names), so unit tests drive it with a fake session. Every
UID collection goes to the adapter, which sends it as chunked ranges (one command per chunk, and
one round trip per chunk for \\Deleted + UID EXPUNGE, which it pipelines).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from email_service.mail.imap import uidset
from email_service.mail.imap.types import FolderStatus, SelectInfo

DELETED = "\\Deleted"


class MailOps(Protocol):
    """The part of mail.imap.ImapSession used here."""

    @property
    def move_supported(self) -> bool: ...
    @property
    def uidplus(self) -> bool: ...
    @property
    def gmail_ext(self) -> bool: ...
    def select(self, name: str, readonly: bool = True) -> SelectInfo: ...
    def status(self, name: str) -> FolderStatus: ...
    def search_uids(self, criteria: str = "ALL") -> list[int]: ...
    def move(self, uids: Iterable[int], dest: str) -> dict[int, int] | None: ...
    def copy(self, uids: Iterable[int], dest: str) -> dict[int, int] | None: ...
    def add_flags(self, uids: Iterable[int], flags: Iterable[str]) -> None: ...
    def remove_flags(self, uids: Iterable[int], flags: Iterable[str]) -> None: ...
    def uid_expunge(self, uids: Iterable[int]) -> None: ...
    def expunge_uids(self, uids: Iterable[int]) -> None: ...
    def expunge_all(self) -> None: ...


class Refused(Exception):
    """Doing it would harm other messages or act on stale UIDs: report as failed, never retry."""


@dataclass(frozen=True)
class Moved:
    """Where the messages went: destination UIDVALIDITY and {old uid: new uid} for those found there."""

    uidvalidity: int
    uids: dict[int, int]


def select_for_write(imap: MailOps, folder: str, uidvalidity: int) -> None:
    """SELECT read-write; stored UIDs of an older UIDVALIDITY name other messages now, so refuse."""
    info = imap.select(folder, readonly=False)
    if info.uidvalidity != uidvalidity:
        raise Refused(f"UIDVALIDITY of {folder} changed since the last sync; sync the account first")


def expunge_exactly(imap: MailOps, folder: str, uidvalidity: int, uids: list[int]) -> None:
    """\\Deleted then UID EXPUNGE of these UIDs; without UIDPLUS only when no other message is \\Deleted."""
    select_for_write(imap, folder, uidvalidity)
    if imap.uidplus:
        imap.expunge_uids(uids)  # STORE and UID EXPUNGE pipelined: one round trip per chunk
        return
    _refuse_if_others_deleted(imap, folder, uids)
    imap.add_flags(uids, [DELETED])
    imap.expunge_all()


def transfer(
    imap: MailOps,
    source: str,
    uidvalidity: int,
    uids: list[int],
    dest: str,
    message_ids: Mapping[int, str | None],
) -> Moved:
    """Move UIDs to `dest` (MOVE, else COPY + \\Deleted + expunge) and learn their new UIDs.

    New UIDs come from COPYUID; otherwise (no UIDPLUS, or a message moved by an earlier attempt)
    they are found in `dest` by position among the new arrivals or by Message-ID.
    """
    before = imap.status(dest)
    select_for_write(imap, source, uidvalidity)
    present = uids if imap.uidplus else imap.search_uids("UID " + uidset.to_ranges(uids))
    mapping = _move(imap, source, uids, dest) if present else {}
    missing = {uid: message_ids.get(uid) for uid in uids if uid not in (mapping or {})}
    found = dict(mapping or {})
    if missing:
        imap.select(dest, readonly=True)
        if mapping is None:
            found.update(_by_position(imap, before.uidnext, [u for u in present if u in missing]))
        for uid, header in missing.items():
            if uid not in found and (new := _by_message_id(imap, header)) is not None:
                found[uid] = new
    return Moved(before.uidvalidity, found)


def _move(imap: MailOps, source: str, uids: list[int], dest: str) -> dict[int, int] | None:
    if imap.move_supported or imap.uidplus:
        return imap.move(uids, dest)
    _refuse_if_others_deleted(imap, source, uids)
    mapping = imap.copy(uids, dest)
    imap.add_flags(uids, [DELETED])
    imap.expunge_all()
    return mapping


def _refuse_if_others_deleted(imap: MailOps, folder: str, uids: list[int]) -> None:
    """A bare EXPUNGE is safe only when nothing but our messages carries \\Deleted."""
    others = set(imap.search_uids("DELETED")).difference(uids)
    if others:
        raise Refused(
            f"server lacks UIDPLUS and {folder} holds {len(others)} other \\Deleted message(s); "
            "a bare EXPUNGE would remove them too"
        )


def _by_position(imap: MailOps, uidnext: int, moved: list[int]) -> dict[int, int]:
    """Servers assign new UIDs in source order; trust that only if exactly our count arrived."""
    arrived = [u for u in imap.search_uids(f"UID {uidnext}:*") if u >= uidnext]
    if len(arrived) != len(moved):
        return {}
    return dict(zip(sorted(moved), sorted(arrived), strict=True))


def _by_message_id(imap: MailOps, header: str | None) -> int | None:
    """The single message in the selected folder with this Message-ID (None when absent or ambiguous)."""
    criteria = message_id_search(header) if header else None
    if criteria is None:
        return None
    hits = imap.search_uids(criteria)
    return hits[0] if len(hits) == 1 else None


def message_id_search(message_id: str) -> str | None:
    """The SEARCH criteria for one Message-ID (None when it cannot be sent as a quoted string).

    The one rule for every Message-ID lookup: following moved rows, and finding a sent copy.
    """
    quoted = quote_search_string(message_id)
    return None if quoted is None else f"HEADER Message-ID {quoted}"


def quote_search_string(text: str) -> str | None:
    """An IMAP quoted string for SEARCH, or None when it cannot be sent as one (non-ASCII, CR/LF)."""
    if not text.isascii() or any(c in text for c in "\r\n\x00"):
        return None
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
