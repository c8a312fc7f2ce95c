"""Pure decisions of the folder sync: is there anything to do, and is a full scan due?

Kept apart from IMAP and SQL so the rules are unit-tested directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from email_service.mail.imap.types import FolderStatus
from email_service.sync.store import FolderState

DEFAULT_FULL_SCAN_INTERVAL = timedelta(minutes=30)
DEFAULT_RECENT_FLAGS_WINDOW = 1000
DEFAULT_NEWEST_FIRST = 100


@dataclass(frozen=True)
class SyncOptions:
    """Knobs of one sync run; defaults suit production, tests and the bench override them."""

    batch_size: int = 500
    batch_max_bytes: int = 32 * 1024 * 1024
    force_full_sync: bool = False
    full_scan_interval: timedelta = DEFAULT_FULL_SCAN_INTERVAL
    parse_workers: int | None = None  # None: automatic (a pool only for large fetches)
    # Without mod-sequences, flags of this many newest stored messages are compared on every sync.
    recent_flags_window: int = DEFAULT_RECENT_FLAGS_WINDOW
    # A first sync (or a rebuild) stores this many newest messages before the oldest-first pass, so
    # the listing shows today's mail within a fraction of a second on any mailbox size (0: off).
    newest_first: int = DEFAULT_NEWEST_FIRST


def tracks_modseq(condstore: bool, status: FolderStatus) -> bool:
    """CONDSTORE enabled and the mailbox keeps mod-sequences (no NOMODSEQ)."""
    return condstore and status.highestmodseq is not None


def needs_sync(state: FolderState, status: FolderStatus, condstore: bool, stored_count: int | None) -> bool:
    """False only when STATUS proves nothing changed since the last completed sync of the folder.

    The stored row count must equal STATUS MESSAGES too: without mod-sequences an expunge shows only
    that way, and with them a mirror that lost or gained rows (a bug, a crash, a hand edit) is repaired.
    """
    if state.uidvalidity != status.uidvalidity or state.uidnext != status.uidnext:
        return True
    if stored_count != status.messages:
        return True
    return tracks_modseq(condstore, status) and state.highestmodseq != status.highestmodseq


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


def needs_count(state: FolderState, status: FolderStatus) -> bool:
    """Whether needs_sync must be given the stored row count (not when STATUS already shows a change)."""
    return state.uidvalidity == status.uidvalidity and state.uidnext == status.uidnext


def recent_flags_due(state: FolderState, status: FolderStatus, condstore: bool, options: SyncOptions) -> bool:
    """Without mod-sequences STATUS cannot show a flag change: the newest messages' flags are compared."""
    return options.recent_flags_window > 0 and state.synced_uid > 0 and not tracks_modseq(condstore, status)
