"""Counts of folders that are listed but not mirrored (Gmail's INBOX and labels, a `\\All` folder).

Their rows live elsewhere (All Mail on Gmail), so no folder sync sets their total and unread counts;
one STATUS each keeps the folder list showing what the server shows (INBOX's unread count on Gmail).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from email_service.mail.imap.types import FolderStatus, ImapCommandError
from email_service.messages.folder_model import Folder
from email_service.sync.store import FolderState


class StatusOps(Protocol):
    def status(self, name: str) -> FolderStatus: ...


def refresh_counts(
    imap: StatusOps, unit: Callable[[], AbstractContextManager[Session]], folders: Sequence[FolderState]
) -> None:
    """STATUS each folder and store its counts where they changed (an unchanged one is not written).

    A folder refused by the server (deleted since LIST) is skipped: its counts are not worth a failed sync.
    """
    counts: dict[str, tuple[int, int]] = {}
    for folder in folders:
        try:
            status = imap.status(folder.name)
        except ImapCommandError:
            continue
        counts[folder.id] = (status.messages, status.unseen)
    if not counts:
        return
    with unit() as session:
        for folder_id, (total, unread) in counts.items():
            session.execute(
                update(Folder)
                .where(
                    Folder.id == folder_id,
                    or_(Folder.total_count != total, Folder.unread_count != unread),
                )
                .values(total_count=total, unread_count=unread)
            )
