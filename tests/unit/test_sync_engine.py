"""FolderSyncer with a fake IMAP session: an unchanged folder costs one STATUS and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from email_service.mail.imap_types import FetchedMessage, FlagUpdate, FolderStatus, QresyncResult, SelectInfo
from email_service.sync.engine import FolderSyncer
from email_service.sync.plan import SyncOptions
from email_service.sync.store import FolderState


class RecordingImap:
    """Answers STATUS from a fixed state and records every command the engine sends."""

    condstore = True
    qresync = True

    def __init__(self, status: FolderStatus) -> None:
        self._status = status
        self.calls: list[str] = []

    def status(self, name: str) -> FolderStatus:
        self.calls.append(f"STATUS {name}")
        return self._status

    def select(self, name: str, readonly: bool = True) -> SelectInfo:
        self.calls.append(f"SELECT {name}")
        raise AssertionError("unexpected SELECT")

    def select_qresync(self, name: str, *args: Any, **kwargs: Any) -> QresyncResult:
        self.calls.append(f"SELECT QRESYNC {name}")
        raise AssertionError("unexpected SELECT")

    def search_uids(self, criteria: str = "ALL") -> list[int]:
        raise AssertionError("unexpected SEARCH")

    def fetch_messages(self, uids: list[int] | str) -> Iterator[FetchedMessage]:
        raise AssertionError("unexpected FETCH")

    def fetch_flags(
        self, uid_range: list[int] | str = "1:*", changedsince: int | None = None
    ) -> list[FlagUpdate]:
        raise AssertionError("unexpected FETCH FLAGS")


def no_db() -> Any:
    raise AssertionError("an unchanged folder needs no database access")


STATE = FolderState("f1", "INBOX", "inbox", 5, 101, 900, 100, None)


def test_unchanged_folder_sends_one_status_and_nothing_else() -> None:
    imap = RecordingImap(FolderStatus(messages=100, unseen=0, uidvalidity=5, uidnext=101, highestmodseq=900))
    stats = FolderSyncer(imap, no_db, ("t", "u", "a"), SyncOptions()).sync(STATE)
    assert stats.skipped and imap.calls == ["STATUS INBOX"]


def test_changed_modseq_selects_the_folder() -> None:
    imap = RecordingImap(FolderStatus(messages=100, unseen=0, uidvalidity=5, uidnext=101, highestmodseq=901))
    with pytest.raises(AssertionError, match="unexpected SELECT"):
        FolderSyncer(imap, no_db, ("t", "u", "a"), SyncOptions()).sync(STATE)
    assert imap.calls == ["STATUS INBOX", "SELECT QRESYNC INBOX"]
