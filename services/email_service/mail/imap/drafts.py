"""A draft in the server's Drafts folder: APPEND the current version with \\Draft, then remove every
older version of that draft (by its known UID and by the Message-ID prefix all its versions share).

Running it twice, or after an attempt that lost its connection, leaves exactly one copy: the current
version is looked up before it is appended, and of several copies the lowest UID is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from email_service.mail.imap.transfer import MailOps, expunge_exactly, message_id_search, quote_search_string
from email_service.mail.imap.types import FolderInfo

DRAFT, SEEN = "\\Draft", "\\Seen"


class DraftOps(MailOps, Protocol):
    """The part of mail.imap.ImapSession a draft write-back uses."""

    def append(
        self, folder: str, raw: bytes, flags: Iterable[str] = (), internaldate: datetime | None = None
    ) -> int | None: ...
    def list_folders(self) -> list[FolderInfo]: ...
    def folder_exists(self, name: str) -> bool: ...
    def create_folder(self, name: str) -> None: ...
    def noop(self) -> None: ...


@dataclass(frozen=True)
class Version:
    """The version to keep on the server: its bytes and its (unique, ASCII) Message-ID."""

    raw: bytes
    message_id: str
    saved_at: datetime | None = None


@dataclass(frozen=True)
class Placed:
    """Where the draft is now: UIDVALIDITY, the kept UID (None: removed) and the UIDs taken away."""

    folder: str
    uidvalidity: int
    uid: int | None
    removed: list[int]


def drafts_folder(imap: DraftOps, known: str | None, create: str = "Drafts") -> str:
    """The account's Drafts folder: the stored one, the server's (SPECIAL-USE or name), else created."""
    if known:
        return known
    found = next((f.name for f in imap.list_folders() if f.role == "drafts"), None)
    if found is not None:
        return found
    if not imap.folder_exists(create):
        imap.create_folder(create)
    return create


def place_draft(
    imap: DraftOps,
    folder: str,
    family: str,
    version: Version | None,
    previous: Sequence[tuple[int, int]] = (),
) -> Placed:
    """Make `version` the draft's only copy in `folder` (None: remove every copy).

    `family` is the Message-ID part every version of this draft carries; `previous` are (UIDVALIDITY,
    UID) pairs known to hold older versions, used only while the folder's UIDVALIDITY is the same.
    """
    family_search = quote_search_string(family)
    if family_search is None:
        raise ValueError("the draft's Message-ID family must be ASCII")
    info = imap.select(folder, readonly=False)
    keep = _keep(imap, folder, version) if version is not None else None
    ours = set(imap.search_uids(f"HEADER Message-ID {family_search}"))
    ours.update(uid for validity, uid in previous if validity == info.uidvalidity)
    stale = sorted(ours - {keep} if keep is not None else ours)
    if stale:
        expunge_exactly(imap, folder, info.uidvalidity, stale)
    return Placed(folder, info.uidvalidity, keep, stale)


def _keep(imap: DraftOps, folder: str, version: Version) -> int | None:
    """The UID of the current version: found (an earlier attempt appended it) or appended now."""
    criteria = message_id_search(version.message_id)
    if criteria is None:
        raise ValueError("the draft's Message-ID must be ASCII")
    hits = imap.search_uids(criteria)
    if not hits:
        uid = imap.append(folder, version.raw, flags=[DRAFT, SEEN], internaldate=version.saved_at)
        if uid is not None:
            return uid
        imap.noop()  # without APPENDUID: let the selected folder announce the new message, then look
        hits = imap.search_uids(criteria)
    return min(hits) if hits else None
