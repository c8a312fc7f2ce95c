"""The per-folder sync algorithm (DESIGN §4): STATUS, SELECT, flags, expunges, new mail in batches.

IMAP work happens outside transactions; every DB write is its own short transaction, and each
batch of new messages moves the folder checkpoint (synced_uid) in the same transaction, so an
interrupted sync resumes with nothing lost and nothing duplicated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.orm import Session

from email_service.mail.imap.types import FetchedMessage, FlagUpdate, FolderStatus, QresyncResult, SelectInfo
from email_service.sync import labels, store
from email_service.sync.junk_moves import MoveWatch
from email_service.sync.mirror_check import MirrorMismatch, plan_repair
from email_service.sync.pipeline import POOL_THRESHOLD, BatchParser, default_workers
from email_service.sync.plan import SyncOptions, full_scan_due, needs_count, needs_sync, recent_flags_due
from email_service.sync.rows import RowContext
from email_service.sync.store import FolderState

log = logging.getLogger(__name__)
UnitOfWork = Callable[[], AbstractContextManager[Session]]
Progress = Callable[[str, int, int], None]
CancelCheck = Callable[[], bool]


class ImapFolderOps(Protocol):
    """The part of mail.imap.ImapSession the engine uses (fakes implement it in unit tests)."""

    @property
    def condstore(self) -> bool: ...
    @property
    def qresync(self) -> bool: ...
    def status(self, name: str) -> FolderStatus: ...
    def select(self, name: str, readonly: bool = True) -> SelectInfo: ...
    def select_qresync(
        self, name: str, uidvalidity: int, modseq: int, known_uids: str | None = None, readonly: bool = True
    ) -> QresyncResult: ...
    def search_uids(self, criteria: str = "ALL") -> list[int]: ...
    def all_uids(self, exists: int) -> list[int]: ...
    def fetch_messages(self, uids: list[int] | str) -> Iterator[FetchedMessage]: ...
    def fetch_flags(
        self, uid_range: list[int] | str = "1:*", changedsince: int | None = None
    ) -> list[FlagUpdate]: ...


@dataclass
class FolderStats:
    """What one folder sync did; `rebuilt` counts re-inserts after a UIDVALIDITY change (not new mail)."""

    synced: int = 0
    copies: int = 0  # of `synced`: copies of a message mirrored already (same Message-ID), not new mail
    rebuilt: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: bool = False
    mismatch: MirrorMismatch | None = None  # the mirror's count differed from the server's (repaired)


class SyncCancelled(Exception):
    """Raised at a batch boundary once the run was asked to stop; `stats` is what this folder committed."""

    def __init__(self, stats: FolderStats) -> None:
        super().__init__("sync cancelled")
        self.stats = stats


@dataclass
class _Selected:
    info: SelectInfo
    vanished: list[int] | None
    changed: list[FlagUpdate] | None


@dataclass
class _Progress:
    """Messages handled so far out of all a folder sync fetches (across the newest-first pass)."""

    total: int
    done: int = 0


class FolderSyncer:
    """Syncs folders of one account over one IMAP session."""

    def __init__(
        self,
        imap: ImapFolderOps,
        unit: UnitOfWork,
        owner: tuple[str, str, str],
        options: SyncOptions,
        progress: Progress | None = None,
        watch: MoveWatch | None = None,
        cancelled: CancelCheck | None = None,
    ) -> None:
        self.imap = imap
        self.unit = unit
        self.tenant_id, self.user_id, self.account_id = owner
        self.options = options
        self.progress = progress
        self.watch = watch  # collects INBOX/Junk moves made by other clients (None: not watched)
        self.cancelled = cancelled  # read after each committed batch (None: cannot be cancelled)

    def sync(self, state: FolderState) -> FolderStats:
        """Bring one folder up to date, then check the mirror's row count against the server's.

        A folder proven unchanged by STATUS (with its row count equal to MESSAGES) costs one round trip
        and one COUNT; without mod-sequences the newest messages' flags are compared on every sync.
        """
        status = self.imap.status(state.name)
        now = datetime.now(UTC)
        full = full_scan_due(state, status, self.imap.condstore, now, self.options)
        recent = recent_flags_due(state, status, self.imap.condstore, self.options)
        count = None
        if needs_count(state, status):
            with self.unit() as session:
                count = store.count_rows(session, self.account_id, state.id, status.uidvalidity)
        if not full and not recent and not needs_sync(state, status, self.imap.condstore, count):
            return FolderStats(skipped=True)
        stats = FolderStats()
        selected = self._select(state)
        rebuilding = state.uidvalidity is not None and state.uidvalidity != selected.info.uidvalidity
        if state.uidvalidity != selected.info.uidvalidity:
            state = self._reset(state, selected)
        all_uids = self._expunges(state, selected, full, stats)
        stats.updated = self._flags(state, selected, full, recent)
        self._new_mail(state, selected.info, all_uids, rebuilding, stats)
        stats.mismatch = self._self_check(state, selected.info.exists, stats)
        with self.unit() as session:
            counts = (status.messages, status.unseen)
            store.finish_folder(session, state.id, selected.info, counts, now if full else None)
        return stats

    def _select(self, state: FolderState) -> _Selected:
        if self.imap.qresync and state.uidvalidity and state.highestmodseq:
            res = self.imap.select_qresync(state.name, state.uidvalidity, state.highestmodseq)
            return _Selected(res.info, res.vanished, res.changed)
        return _Selected(self.imap.select(state.name), None, None)

    def _reset(self, state: FolderState, selected: _Selected) -> FolderState:
        """New UIDVALIDITY (or first sync): old rows go, the resync data from SELECT is meaningless."""
        validity = selected.info.uidvalidity
        with self.unit() as session:
            store.reset_folder(session, self.account_id, state.id, validity)
        selected.vanished = selected.changed = None
        return replace(state, uidvalidity=validity, synced_uid=0, uidnext=None, highestmodseq=None)

    def _expunges(
        self, state: FolderState, selected: _Selected, full: bool, stats: FolderStats
    ) -> list[int] | None:
        """VANISHED from QRESYNC, else compare UID SEARCH ALL with stored UIDs when counts disagree."""
        assert state.uidvalidity is not None
        if state.synced_uid == 0:
            return None
        gone: list[int] = []
        all_uids: list[int] | None = None
        if selected.vanished is not None and not full:
            gone = selected.vanished
        else:
            with self.unit() as session:
                count = store.count_rows(session, self.account_id, state.id, state.uidvalidity)
            if full or count != selected.info.exists:
                all_uids = self.imap.all_uids(selected.info.exists)
                with self.unit() as session:
                    stored = store.stored_uids(session, self.account_id, state.id, state.uidvalidity)
                gone = plan_repair(all_uids, stored, selected.info.exists).gone
        if gone:
            with self.unit() as session:
                headers = store.delete_uids_headers(
                    session, self.account_id, state.id, state.uidvalidity, gone
                )
            stats.deleted = len(headers)
            if self.watch is not None:
                self.watch.vanished(state.role, headers)
        return all_uids

    def _flags(self, state: FolderState, selected: _Selected, full: bool, recent: bool) -> int:
        """CHANGEDSINCE / QRESYNC changes when mod-sequences are tracked, else a FLAGS comparison.

        Without mod-sequences the comparison covers the whole folder when the full scan is due and the
        newest `recent_flags_window` messages on every other sync (where reads and flags mostly happen).
        """
        assert state.uidvalidity is not None
        top = state.synced_uid
        if top == 0:
            return 0
        if full:
            updates = self._compare_flags(state, None)
        elif selected.changed is not None:
            updates = [u for u in selected.changed if u.uid <= top]
        elif (
            self.imap.condstore and state.highestmodseq and selected.info.highestmodseq != state.highestmodseq
        ):
            updates = self.imap.fetch_flags(f"1:{top}", changedsince=state.highestmodseq)
        elif recent:
            updates = self._compare_flags(state, self.options.recent_flags_window)
        else:
            return 0
        with self.unit() as session:
            updates = store.without_pending_flags(session, state.id, state.uidvalidity, updates)
            labels.update_labels(session, (self.account_id, state.id, state.uidvalidity), updates)
            return store.update_flags(session, self.account_id, state.id, state.uidvalidity, updates)

    def _compare_flags(self, state: FolderState, newest: int | None) -> list[FlagUpdate]:
        """Server flags that differ from the stored ones, over every row or the `newest` rows."""
        assert state.uidvalidity is not None
        with self.unit() as session:
            known = store.stored_flags(session, self.account_id, state.id, state.uidvalidity, newest)
        if not known:
            return []
        low = 1 if newest is None else min(known)
        current = self.imap.fetch_flags(f"{low}:{state.synced_uid}")
        changed = [u for u in current if u.uid in known and known[u.uid] != sorted(set(u.flags))]
        if labels.with_labels(current):  # Gmail: a label change alone is a change too
            key = (self.account_id, state.id, state.uidvalidity)
            with self.unit() as session:
                moved = labels.relabelled(session, key, current, set(known))
            seen = {u.uid for u in changed}
            changed += [u for u in moved if u.uid not in seen]
        return changed

    def _self_check(self, state: FolderState, exists: int, stats: FolderStats) -> MirrorMismatch | None:
        """Compare the folder's row count with EXISTS; on a mismatch repair from the server's UID list."""
        assert state.uidvalidity is not None
        with self.unit() as session:
            count = store.count_rows(session, self.account_id, state.id, state.uidvalidity)
        if count == exists:
            return None
        server_uids = self.imap.all_uids(exists)
        with self.unit() as session:
            stored = store.stored_uids(session, self.account_id, state.id, state.uidvalidity)
        repair = plan_repair(server_uids, stored, exists)
        if not repair.missing and not repair.gone and len(set(server_uids)) == count:
            return None  # mail came or went after SELECT: the mirror matches the server's UID list
        dropped = 0
        if repair.gone:
            with self.unit() as session:
                dropped = len(
                    store.delete_uids_headers(
                        session, self.account_id, state.id, state.uidvalidity, repair.gone
                    )
                )
            stats.deleted += dropped
        before = stats.synced
        self._insert(state, repair.missing, False, stats, None)
        mismatch = MirrorMismatch(exists, count, stats.synced - before, dropped)
        log.warning(
            "folder %s: mirror had %d rows for %d messages, repaired: %s", state.name, count, exists, mismatch
        )
        return mismatch

    def _new_mail(
        self,
        state: FolderState,
        info: SelectInfo,
        all_uids: list[int] | None,
        rebuilding: bool,
        stats: FolderStats,
    ) -> None:
        """UID FETCH everything above the checkpoint in batches: parse, insert, checkpoint."""
        assert state.uidvalidity is not None
        start = state.synced_uid + 1
        if info.uidnext and info.uidnext <= start and all_uids is None:
            return
        found = all_uids if all_uids is not None else self.imap.search_uids(f"UID {start}:*")
        new_uids = [uid for uid in found if uid >= start]
        # A first sync or a rebuild (no uidnext recorded yet) brings no moves, only history.
        watch = self.watch if state.uidnext is not None else None
        head = self.options.newest_first
        if state.synced_uid > 0 or head <= 0 or len(new_uids) <= head:
            self._insert(state, new_uids, rebuilding, stats, watch)
            return
        # Newest first, then the rest oldest first. Only the second pass moves the checkpoint, and
        # only up to what it stored; the newest ones' UIDs join it at the end. Interrupted in between,
        # the next sync fetches from the checkpoint again and the stored newest rows are conflicts.
        newest, older = new_uids[-head:], new_uids[:-head]
        progress = _Progress(len(new_uids))
        self._insert(state, newest, rebuilding, stats, watch, progress, advance=False)
        self._insert(state, older, rebuilding, stats, watch, progress)
        with self.unit() as session:
            store.advance_checkpoint(session, state.id, newest[-1])

    def _insert(
        self,
        state: FolderState,
        uids: list[int],
        rebuilding: bool,
        stats: FolderStats,
        watch: MoveWatch | None,
        progress: _Progress | None = None,
        advance: bool = True,
    ) -> None:
        """Fetch, parse and insert these UIDs in batches, each batch committed with the checkpoint
        (`advance`) or without it (rows above the checkpoint, which a later batch moves past them)."""
        assert state.uidvalidity is not None
        if not uids:
            return
        progress = progress or _Progress(len(uids))
        announce = state.uidnext is not None  # else the folder's first fill or a rebuild: history
        with self.unit() as session:
            json_text = store.wants_json_text(session)
        ctx = RowContext(
            self.tenant_id, self.user_id, self.account_id, state.id, state.uidvalidity, json_text
        )
        with BatchParser(self._workers(len(uids))) as parser:
            for built in parser.parse(ctx, self._batches(uids)):
                with self.unit() as session:
                    stored = store.insert_batch_ids(session, state.id, built, advance, announce)
                if watch is not None:
                    watch.inserted(state.role, built.messages, stored.ids)
                inserted = len(stored.ids)
                progress.done += len(built.messages)
                if rebuilding:
                    stats.rebuilt += inserted
                else:
                    stats.synced += inserted
                    stats.copies += stored.copies
                if self.progress is not None:
                    self.progress(state.name, progress.done, progress.total)
                if self.cancelled is not None and progress.done < progress.total and self.cancelled():
                    raise SyncCancelled(stats)  # this batch and the ones before it are committed

    def _workers(self, count: int) -> int:
        if self.options.parse_workers is not None:
            return self.options.parse_workers
        return default_workers() if count >= POOL_THRESHOLD else 0

    def _batches(self, uids: list[int]) -> Iterator[list[FetchedMessage]]:
        """Batches of at most batch_size messages or batch_max_bytes, cut from ascending UID FETCHes."""
        size, cap = self.options.batch_size, self.options.batch_max_bytes
        for start in range(0, len(uids), size):
            batch: list[FetchedMessage] = []
            held = 0
            for message in self.imap.fetch_messages(uids[start : start + size]):
                if batch and held + len(message.raw) > cap:
                    yield batch  # a message that would overflow the batch starts the next one
                    batch, held = [], 0
                batch.append(message)
                held += len(message.raw)
                if held >= cap:
                    yield batch  # so one message at or over the cap is parsed and written alone
                    batch, held = [], 0
            if batch:
                yield batch
