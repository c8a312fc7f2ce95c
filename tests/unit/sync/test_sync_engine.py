"""FolderSyncer with a fake IMAP session: an unchanged folder costs one STATUS and a row count."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from email_service.mail.imap.types import FetchedMessage, FlagUpdate, FolderStatus, QresyncResult, SelectInfo
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

    def all_uids(self, exists: int) -> list[int]:
        raise AssertionError("unexpected SEARCH")

    def fetch_messages(self, uids: list[int] | str) -> Iterator[FetchedMessage]:
        raise AssertionError("unexpected FETCH")

    def fetch_flags(
        self, uid_range: list[int] | str = "1:*", changedsince: int | None = None
    ) -> list[FlagUpdate]:
        raise AssertionError("unexpected FETCH FLAGS")


class _CountSession:
    """Answers the one query an unchanged folder needs: its row count (compared with STATUS MESSAGES)."""

    def __init__(self, rows: int) -> None:
        self.rows = rows

    def execute(self, query: Any) -> Any:
        assert "count" in str(query).lower(), f"an unchanged folder needs only a row count, not {query}"
        return self

    def scalar_one(self) -> int:
        return self.rows


def count_only(rows: int) -> Any:
    @contextmanager
    def unit() -> Iterator[_CountSession]:
        yield _CountSession(rows)

    return unit


STATE = FolderState("f1", "INBOX", "inbox", 5, 101, 900, 100, None)


def test_unchanged_folder_sends_one_status_and_nothing_else() -> None:
    imap = RecordingImap(FolderStatus(messages=100, unseen=0, uidvalidity=5, uidnext=101, highestmodseq=900))
    stats = FolderSyncer(imap, count_only(100), ("t", "u", "a"), SyncOptions()).sync(STATE)
    assert stats.skipped and imap.calls == ["STATUS INBOX"]


def test_a_mirror_short_of_rows_selects_the_folder_even_when_status_is_unchanged() -> None:
    imap = RecordingImap(FolderStatus(messages=100, unseen=0, uidvalidity=5, uidnext=101, highestmodseq=900))
    with pytest.raises(AssertionError, match="unexpected SELECT"):
        FolderSyncer(imap, count_only(98), ("t", "u", "a"), SyncOptions()).sync(STATE)
    assert imap.calls == ["STATUS INBOX", "SELECT QRESYNC INBOX"]


def test_changed_modseq_selects_the_folder() -> None:
    imap = RecordingImap(FolderStatus(messages=100, unseen=0, uidvalidity=5, uidnext=101, highestmodseq=901))
    with pytest.raises(AssertionError, match="unexpected SELECT"):
        FolderSyncer(imap, count_only(100), ("t", "u", "a"), SyncOptions()).sync(STATE)
    assert imap.calls == ["STATUS INBOX", "SELECT QRESYNC INBOX"]
