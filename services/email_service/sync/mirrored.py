"""Which folders are mirrored as message rows, and which are only listed.

A `\\All` folder (Dovecot's virtual All, Gmail's All Mail) shows every message of the other folders
again: mirroring it beside them stores each message twice. Gmail is the other way round (X-GM-EXT-1):
a label is a folder, so mirroring each one stores a message once per label; there All Mail, Spam
and Trash hold every message exactly once, and labels come with each message (X-GM-LABELS).
"""

from __future__ import annotations

from collections.abc import Sequence

from email_service.sync.store import FolderState

ALL = "all"
GMAIL_MIRRORED = frozenset({ALL, "junk", "trash"})


def mirrored(folders: Sequence[FolderState], gmail: bool) -> list[FolderState]:
    """The folders to sync, in listing order.

    On Gmail without an All Mail folder in IMAP (a user can hide it from IMAP in Gmail's settings)
    the labels are all there is, so they are synced like any server's folders.
    """
    if gmail and any(f.role == ALL for f in folders):
        return [f for f in folders if f.role in GMAIL_MIRRORED]
    return [f for f in folders if f.role != ALL]


def for_request(requested: FolderState, folders: Sequence[FolderState], gmail: bool) -> list[FolderState]:
    """A sync asked for one folder: that folder when it is mirrored; on Gmail, a label's messages
    live in All Mail, so an INBOX sync (IDLE, the frontend) syncs All Mail; otherwise nothing."""
    chosen = mirrored(folders, gmail)
    if any(f.id == requested.id for f in chosen):
        return [requested]
    if gmail:
        return [f for f in chosen if f.role == ALL]
    return []


def unmirrored_with_rows(folders: Sequence[FolderState], chosen: Sequence[FolderState]) -> list[str]:
    """Ids of folders left out that were synced before (a mirror from before this rule, or a server
    that started advertising X-GM-EXT-1): their rows are second copies and must go."""
    kept = {f.id for f in chosen}
    return [f.id for f in folders if f.id not in kept and (f.synced_uid or f.uidvalidity is not None)]
