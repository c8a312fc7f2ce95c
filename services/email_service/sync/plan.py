"""Pure decisions of the folder sync: is there anything to do, and is a full scan due?

Kept apart from IMAP and SQL so the rules are unit-tested directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from email_service.mail.imap_types import FolderStatus
from email_service.sync.store import FolderState

DEFAULT_FULL_SCAN_INTERVAL = timedelta(minutes=30)


@dataclass(frozen=True)
class SyncOptions:
    """Knobs of one sync run; defaults suit production, tests and the bench override them."""

    batch_size: int = 500
    batch_max_bytes: int = 32 * 1024 * 1024
    force_full_sync: bool = False
    full_scan_interval: timedelta = DEFAULT_FULL_SCAN_INTERVAL
    parse_workers: int | None = None  # None: automatic (a pool only for large fetches)


def tracks_modseq(condstore: bool, status: FolderStatus) -> bool:
    """CONDSTORE enabled and the mailbox keeps mod-sequences (no NOMODSEQ)."""
    return condstore and status.highestmodseq is not None


def needs_sync(state: FolderState, status: FolderStatus, condstore: bool, stored_count: int | None) -> bool:
    """False only when STATUS proves nothing changed since the last completed sync of the folder."""
    if state.uidvalidity != status.uidvalidity or state.uidnext != status.uidnext:
        return True
    if tracks_modseq(condstore, status):
        return state.highestmodseq != status.highestmodseq
    # Without mod-sequences an expunge shows only as a different message count.
    return stored_count != status.messages


def full_scan_due(
    state: FolderState, status: FolderStatus, condstore: bool, now: datetime, options: SyncOptions
) -> bool:
    """FLAGS scan + UID comparison: forced, periodic without CONDSTORE, or after an interrupted first sync."""
    if options.force_full_sync:
        return True
    if tracks_modseq(condstore, status):
        return state.highestmodseq is None and state.synced_uid > 0
    last = state.last_full_scan_at
    return last is None or now - last >= options.full_scan_interval


def needs_count(state: FolderState, status: FolderStatus, condstore: bool) -> bool:
    """Whether needs_sync must be given the stored row count (only without mod-sequences)."""
    same = state.uidvalidity == status.uidvalidity and state.uidnext == status.uidnext
    return same and not tracks_modseq(condstore, status)
