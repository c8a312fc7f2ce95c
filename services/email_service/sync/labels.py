"""Gmail's labels on mirrored rows: written with the flags on resync, compared where flags are compared.

A label change on Gmail is a change of the message in All Mail (its flags fetch carries X-GM-LABELS),
so it follows the flags' paths: CHANGEDSINCE / QRESYNC, and the FLAGS comparison scans.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from email_service.mail.imap.types import FlagUpdate
from email_service.messages.model import Message

MESSAGES: Table = Message.__table__  # type: ignore[assignment]
Key = tuple[str, str, int]  # account, folder, uidvalidity


def with_labels(updates: Sequence[FlagUpdate]) -> list[FlagUpdate]:
    """The updates that carry labels (fetched from a server with X-GM-EXT-1)."""
    return [u for u in updates if u.gm_labels is not None]


def stored_labels(session: Session, key: Key, uids: Sequence[int]) -> dict[int, list[str]]:
    """{uid: labels} of these rows (asked only on Gmail, for the UIDs a scan fetched)."""
    account_id, folder_id, uidvalidity = key
    out: dict[int, list[str]] = {}
    wanted = sorted(set(uids))
    for start in range(0, len(wanted), 1000):
        query = select(MESSAGES.c.uid, MESSAGES.c.labels).where(
            MESSAGES.c.account_id == account_id,
            MESSAGES.c.folder_id == folder_id,
            MESSAGES.c.uidvalidity == uidvalidity,
            MESSAGES.c.uid.in_(wanted[start : start + 1000]),
        )
        out.update((uid, list(labels or [])) for uid, labels in session.execute(query))
    return out


def relabelled(
    session: Session, key: Key, current: Sequence[FlagUpdate], known: set[int]
) -> list[FlagUpdate]:
    """Updates among `current` whose labels differ from the stored ones (rows in `known` only)."""
    labelled = [u for u in with_labels(current) if u.uid in known]
    if not labelled:
        return []
    stored = stored_labels(session, key, [u.uid for u in labelled])
    return [u for u in labelled if u.uid in stored and stored[u.uid] != list(u.gm_labels or ())]


def update_labels(session: Session, key: Key, updates: Sequence[FlagUpdate]) -> None:
    """Write the labels of updates that carry them; others (non-Gmail) leave the column alone."""
    labelled = with_labels(updates)
    if not labelled:
        return
    account_id, folder_id, uidvalidity = key
    stmt = (
        update(MESSAGES)
        .where(
            MESSAGES.c.account_id == account_id,
            MESSAGES.c.folder_id == folder_id,
            MESSAGES.c.uidvalidity == uidvalidity,
            MESSAGES.c.uid == bindparam("b_uid"),
        )
        .values(labels=bindparam("b_labels"))
    )
    session.execute(stmt, [{"b_uid": u.uid, "b_labels": list(u.gm_labels or ())} for u in labelled])
