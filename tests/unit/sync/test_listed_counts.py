"""Counts of listed-only folders: one STATUS each; a folder the server refuses is skipped, not fatal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from email_service.mail.imap.types import FolderStatus, ImapCommandError
from email_service.sync.listed_counts import refresh_counts
from email_service.sync.store import FolderState


class _Status:
    def __init__(self, refused: set[str]) -> None:
        self.refused = refused
        self.asked: list[str] = []

    def status(self, name: str) -> FolderStatus:
        self.asked.append(name)
        if name in self.refused:
            raise ImapCommandError(f"NO [NONEXISTENT] {name}")
        return FolderStatus(messages=4, unseen=1, uidvalidity=9, uidnext=5, highestmodseq=None)


class _Session:
    def __init__(self) -> None:
        self.statements: list[Any] = []

    def execute(self, statement: Any) -> None:
        self.statements.append(statement)


def _folder(name: str) -> FolderState:
    return FolderState(name, name, None, None, None, None, 0, None)


def test_a_refused_folder_is_skipped_and_the_others_are_written() -> None:
    session = _Session()
    opened: list[int] = []

    @contextmanager
    def unit() -> Iterator[Any]:
        opened.append(1)
        yield session

    imap = _Status(refused={"Gone"})
    refresh_counts(imap, unit, [_folder("INBOX"), _folder("Gone"), _folder("Work")])
    assert imap.asked == ["INBOX", "Gone", "Work"]
    assert len(session.statements) == 2 and opened == [1]  # one transaction for all of them

    everything_refused = _Status(refused={"Gone"})
    refresh_counts(everything_refused, unit, [_folder("Gone")])
    assert opened == [1]  # nothing counted: no transaction at all
