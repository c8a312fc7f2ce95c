"""The mirror's self-check: what a UID-list repair must fetch and drop when row and message counts differ.

A folder's row count that differs from the server's EXISTS means the mirror is wrong (a server whose
UID SEARCH answers too little, rows lost or added behind the sync's back). The repair compares UID lists;
pure logic here, the IMAP and SQL work is in the engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class MirrorMismatch:
    """One folder's counts before the repair and what the repair did (counts only, no mail contents)."""

    server: int
    mirror: int
    fetched: int = 0
    dropped: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Repair:
    missing: list[int]  # on the server, not in the mirror: fetch them
    gone: list[int]  # in the mirror, not on the server: drop them


def plan_repair(server_uids: Iterable[int], stored_uids: Iterable[int], exists: int) -> Repair:
    """Fetch what the mirror lacks; drop rows only when the server's list is complete.

    A list shorter than EXISTS proves only what it holds: dropping what it lacks could empty the mirror.
    """
    listed, stored = set(server_uids), set(stored_uids)
    gone = sorted(stored - listed) if len(listed) >= exists else []
    return Repair(missing=sorted(listed - stored), gone=gone)
