"""Spot messages the user moved into or out of Junk with another mail client, during one account sync.

A move shows up as an expunge in one folder plus a new UID with the same Message-ID in another.
Folders sync one after another in either order, so both halves are collected for the whole run and
paired at the end. Only incremental arrivals in INBOX (All Mail on Gmail) and Junk are kept (never
an initial sync or a UIDVALIDITY rebuild), so a normal sync holds at most a few headers here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

JUNK, INBOX, ALL = "junk", "inbox", "all"
# Where mail moved out of Junk arrives: INBOX, or on Gmail All Mail ("not spam" puts it back in the
# inbox, and All Mail is the folder synced there; other servers keep no rows in a \\All folder).
HAM_ROLES = (INBOX, ALL)


@dataclass(frozen=True)
class JunkMove:
    """The row (new UID) of a message the user moved; is_spam: into Junk (True) or Junk → INBOX."""

    message_id: str
    header: str
    is_spam: bool


@dataclass
class MoveWatch:
    """Collects expunged headers and new INBOX/Junk rows of one account sync run."""

    left_junk: set[str] = field(default_factory=set)
    left_other: set[str] = field(default_factory=set)
    arrived: list[tuple[str, str, str]] = field(default_factory=list)  # row id, header, folder role

    @staticmethod
    def watches(role: str | None) -> bool:
        """Arrivals matter only in Junk (spam label) and INBOX or All Mail (ham when it came from Junk)."""
        return role == JUNK or role in HAM_ROLES

    def vanished(self, role: str | None, headers: Iterable[str | None]) -> None:
        """Headers of rows whose UIDs the server expunged from a folder with this role."""
        target = self.left_junk if role == JUNK else self.left_other
        target.update(h for h in headers if h)

    def inserted(self, role: str | None, rows: Sequence[dict[str, Any]], ids: set[str]) -> None:
        """New rows of a watched folder; rows that hit the unique key (already known) are skipped."""
        if not ids or not self.watches(role):
            return
        for row in rows:
            header = row.get("message_id_header")
            if header and row["id"] in ids:
                self.arrived.append((str(row["id"]), str(header), str(role)))

    def moves(self) -> list[JunkMove]:
        """Arrivals whose Message-ID left the right folder in this run: other → Junk, Junk → INBOX."""
        found: list[JunkMove] = []
        for row_id, header, role in self.arrived:
            if role == JUNK and header in self.left_other:
                found.append(JunkMove(row_id, header, True))
            elif role in HAM_ROLES and header in self.left_junk:
                found.append(JunkMove(row_id, header, False))
        return found
