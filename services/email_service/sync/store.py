"""DB side of the sync engine: folder state, bulk message writes and the per-batch checkpoint.

Core statements on plain dicts (no ORM objects on the hot path). Inserts ignore rows that already
exist on the unique key (account, folder, uidvalidity, uid), so a redelivered batch is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Result, Table, bindparam, delete, func, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from email_service.accounts.model import EmailAccount
from email_service.events.log import append_changes
from email_service.events.model import FOLDER_CHANGED, MESSAGE_CREATED, MESSAGE_DELETED, MESSAGE_UPDATED
from email_service.mail.imap.types import FlagUpdate, SelectInfo
from email_service.messages.actions.model import FLAGS, MOVE, PENDING, MessageAction
from email_service.messages.attachment_model import Attachment
from email_service.messages.folder_model import Folder
from email_service.messages.model import Message
from email_service.sync import pg_fast
from email_service.sync.rows import BuiltBatch, flag_columns
from email_service.sync.threading import assign_threads, plan_threads

MESSAGES: Table = Message.__table__  # type: ignore[assignment]
ATTACHMENTS: Table = Attachment.__table__  # type: ignore[assignment]
FOLDERS: Table = Folder.__table__  # type: ignore[assignment]
ACTIONS: Table = MessageAction.__table__  # type: ignore[assignment]
ACCOUNTS: Table = EmailAccount.__table__  # type: ignore[assignment]
FLAGS_HOLD = timedelta(hours=2)
PLACEHOLDER_UIDVALIDITY = 0  # a row whose move is pending (messages/actions/move.py)
JSON_COLUMNS = pg_fast.JSON_COLUMNS
IN_CHUNK = 1000  # bound the size of IN (...) lists


@dataclass(frozen=True)
class FolderState:
    """The persisted checkpoint of one folder, as the engine reads it."""

    id: str
    name: str
    role: str | None
    uidvalidity: int | None
    uidnext: int | None
    highestmodseq: int | None
    synced_uid: int
    last_full_scan_at: datetime | None

    @classmethod
    def of(cls, folder: Folder) -> FolderState:
        return cls(
            folder.id,
            folder.name,
            folder.role,
            folder.uidvalidity,
            folder.uidnext,
            folder.highestmodseq,
            folder.synced_uid or 0,
            folder.last_full_scan_at,
        )


def _rowcount(result: Result[Any]) -> int:
    """Rows touched by an UPDATE/DELETE (-1 from drivers that do not know counts as 0)."""
    count = result.rowcount if isinstance(result, CursorResult) else 0
    return max(0, int(count or 0))


def reset_folder(session: Session, account_id: str, folder_id: str, uidvalidity: int) -> int:
    """Start over under a new UIDVALIDITY: rows of any other UIDVALIDITY go, the checkpoint restarts."""
    gone = _rowcount(
        session.execute(
            delete(MESSAGES).where(
                MESSAGES.c.account_id == account_id,
                MESSAGES.c.folder_id == folder_id,
                MESSAGES.c.uidvalidity != uidvalidity,
                MESSAGES.c.uidvalidity != PLACEHOLDER_UIDVALIDITY,  # moved in, the move still pending
            )
        )
    )
    session.execute(
        update(FOLDERS)
        .where(FOLDERS.c.id == folder_id)
        .values(
            uidvalidity=uidvalidity, synced_uid=0, uidnext=None, highestmodseq=None, last_full_scan_at=None
        )
    )
    return gone


@dataclass(frozen=True)
class StoredBatch:
    """What a batch insert stored: the new rows' ids (conflicts left out), and how many of them are
    copies of a message the account's mirror already holds (same Message-ID, in another folder or
    earlier in the batch): stored, but not new mail."""

    ids: set[str]
    copies: int = 0

    @property
    def new_mail(self) -> int:
        return len(self.ids) - self.copies


def insert_batch(session: Session, folder_id: str, built: BuiltBatch) -> int:
    """Insert a batch and move the folder checkpoint in the same transaction; returns rows inserted."""
    return len(insert_batch_ids(session, folder_id, built).ids)


def insert_batch_ids(
    session: Session, folder_id: str, built: BuiltBatch, advance: bool = True, announce: bool = True
) -> StoredBatch:
    """insert_batch returning what was actually stored (see StoredBatch).

    `advance=False` stores rows above the checkpoint without moving it (the newest-first pass).
    `announce`: each new row is a message.created change (a copy's carries `copy_of`, the row it
    copies, so a receiver announcing new mail skips it); else (a folder's first fill or rebuild:
    history, not new mail) the batch is one folder.changed change."""
    copies: dict[str, str] = {}
    if not built.messages:
        inserted: set[str] = set()
    else:
        plan = plan_threads(session, built.messages, built.server_threads)
        inserted = _insert_messages(session, built.messages)
        if len(inserted) == len(built.messages):
            plan.write(session, rows_stored=True)
        elif inserted:  # some were stored already: thread only the new ones, as if the others were absent
            assign_threads(session, [m for m in built.messages if m["id"] in inserted], built.server_threads)
    if inserted:
        copies = copies_of_mirrored(session, [m for m in built.messages if m["id"] in inserted])
        _record_inserted(session, folder_id, built, inserted, copies, announce)
    attachments = [a for a in built.attachments if a["message_id"] in inserted]
    if attachments:
        session.execute(ATTACHMENTS.insert(), attachments)
    if advance:
        advance_checkpoint(session, folder_id, built.max_uid)
    return StoredBatch(inserted, len(copies))


def copies_of_mirrored(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    """{new row id: id of the row it copies} for new rows whose Message-ID the account already has
    in another row (a message filed in two folders, moved by another client, a server's duplicate)
    or in an earlier row of the same batch. Rows without a Message-ID are never copies."""
    by_header: dict[str, list[str]] = {}
    for row in rows:
        header = row.get("message_id_header")
        if header:
            by_header.setdefault(header, []).append(row["id"])
    if not by_header:
        return {}
    new_ids = {row["id"] for row in rows}
    account_id = rows[0]["account_id"]
    earlier: dict[str, str] = {}
    headers = list(by_header)
    for start in range(0, len(headers), IN_CHUNK):
        query = select(MESSAGES.c.message_id_header, func.min(MESSAGES.c.id)).where(
            MESSAGES.c.account_id == account_id,
            MESSAGES.c.message_id_header.in_(headers[start : start + IN_CHUNK]),
            MESSAGES.c.id.not_in(new_ids),
        )
        earlier.update(session.execute(query.group_by(MESSAGES.c.message_id_header)).tuples().all())
    copies: dict[str, str] = {}
    for header, ids in by_header.items():
        original = earlier.get(header, ids[0])
        copies.update({row_id: original for row_id in ids if row_id != original})
    return copies


def _record_inserted(
    session: Session,
    folder_id: str,
    built: BuiltBatch,
    inserted: set[str],
    copies: dict[str, str],
    announce: bool,
) -> None:
    first = built.messages[0]
    owner, account_id = (first["tenant_id"], first["user_id"]), first["account_id"]
    if announce:
        ids = [m["id"] for m in built.messages if m["id"] in inserted and m["id"] not in copies]
        append_changes(session, owner, MESSAGE_CREATED, account_id, ids, {"folder_id": folder_id})
        for copy_id, original in copies.items():
            data = {"folder_id": folder_id, "copy_of": original}
            append_changes(session, owner, MESSAGE_CREATED, account_id, [copy_id], data)
    else:
        added = {"messages_added": len(inserted)}
        append_changes(session, owner, FOLDER_CHANGED, account_id, [folder_id], added)


def advance_checkpoint(session: Session, folder_id: str, uid: int) -> None:
    """Every UID up to `uid` is stored: the folder's checkpoint moves there (never back)."""
    session.execute(
        update(FOLDERS).where(FOLDERS.c.id == folder_id, FOLDERS.c.synced_uid < uid).values(synced_uid=uid)
    )


def _insert_messages(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """INSERT ... ON CONFLICT DO NOTHING; returns the ids that were actually inserted."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_fast.insert_messages(session, rows)
    stmt = sqlite.insert(MESSAGES).on_conflict_do_nothing().returning(MESSAGES.c.id)
    return set(session.execute(stmt, rows).scalars())


def wants_json_text(session: Session) -> bool:
    """Whether batch rows for this database should carry JSON columns pre-encoded (PostgreSQL)."""
    return session.get_bind().dialect.name == "postgresql"


def stored_uids(session: Session, account_id: str, folder_id: str, uidvalidity: int) -> list[int]:
    """Every UID stored for the folder (one narrow index scan), messages moving out of it included:
    their rows show the target folder already, but the server has them here until the move is done."""
    query = select(MESSAGES.c.uid).where(
        MESSAGES.c.account_id == account_id,
        MESSAGES.c.folder_id == folder_id,
        MESSAGES.c.uidvalidity == uidvalidity,
    )
    return list(session.execute(query).scalars()) + pending_uids(session, folder_id, uidvalidity, MOVE)


def pending_uids(
    session: Session, folder_id: str, uidvalidity: int, kind: str, since: datetime | None = None
) -> list[int]:
    """UIDs in this folder with a pending write-back of this kind (the action log's coordinates)."""
    query = select(ACTIONS.c.uid).where(
        ACTIONS.c.folder_id == folder_id,
        ACTIONS.c.uidvalidity == uidvalidity,
        ACTIONS.c.state == PENDING,
        ACTIONS.c.kind == kind,
    )
    if since is not None:
        query = query.where(ACTIONS.c.created_at > since)
    return [uid for uid in session.execute(query).scalars() if uid is not None]


def without_pending_flags(
    session: Session, folder_id: str, uidvalidity: int, updates: Sequence[FlagUpdate]
) -> list[FlagUpdate]:
    """A sync never undoes a local flag change the server has not confirmed yet: those rows keep theirs.

    Only for FLAGS_HOLD: far longer than every retry of the task, so a write-back whose task was lost
    for good does not keep the server's flags out of the mirror for ever.
    """
    if not updates:
        return []
    since = datetime.now(UTC) - FLAGS_HOLD
    held = set(pending_uids(session, folder_id, uidvalidity, FLAGS, since))
    return [u for u in updates if u.uid not in held] if held else list(updates)


def stored_flags(
    session: Session, account_id: str, folder_id: str, uidvalidity: int, newest: int | None = None
) -> dict[int, list[str]]:
    """{uid: sorted flags} of the folder's rows, or of only its `newest` (highest UIDs) rows."""
    query = select(MESSAGES.c.uid, MESSAGES.c.flags).where(
        MESSAGES.c.account_id == account_id,
        MESSAGES.c.folder_id == folder_id,
        MESSAGES.c.uidvalidity == uidvalidity,
    )
    if newest is not None:
        query = query.order_by(MESSAGES.c.uid.desc()).limit(newest)
    return {uid: sorted(flags or []) for uid, flags in session.execute(query)}


def update_flags(
    session: Session, account_id: str, folder_id: str, uidvalidity: int, updates: Sequence[FlagUpdate]
) -> int:
    """Write new flags for existing rows, each a message.updated change; returns rows changed."""
    if not updates:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        changed = pg_fast.update_flags(session, (account_id, folder_id, uidvalidity), updates)
    else:
        changed = _update_flags_by_id(session, (account_id, folder_id, uidvalidity), updates)
    if changed:
        owner = _account_owner(session, account_id)
        append_changes(session, owner, MESSAGE_UPDATED, account_id, changed, {"folder_id": folder_id})
    return len(changed)


def _update_flags_by_id(
    session: Session, key: tuple[str, str, int], updates: Sequence[FlagUpdate]
) -> list[str]:
    """The rows by server key, then one UPDATE per row by id (SQLite: executemany in one transaction)."""
    account_id, folder_id, uidvalidity = key
    row_of: dict[int, str] = {}
    wanted = sorted({u.uid for u in updates})
    for start in range(0, len(wanted), IN_CHUNK):
        query = select(MESSAGES.c.uid, MESSAGES.c.id).where(
            MESSAGES.c.account_id == account_id,
            MESSAGES.c.folder_id == folder_id,
            MESSAGES.c.uidvalidity == uidvalidity,
            MESSAGES.c.uid.in_(wanted[start : start + IN_CHUNK]),
        )
        row_of.update({int(uid): str(row_id) for uid, row_id in session.execute(query)})
    found = {u.uid: u for u in updates if u.uid in row_of}  # the last update of a UID wins
    if not found:
        return []
    stmt = (
        update(MESSAGES)
        .where(MESSAGES.c.id == bindparam("b_id"))
        .values(
            flags=bindparam("flags"),
            is_read=bindparam("is_read"),
            is_flagged=bindparam("is_flagged"),
            is_answered=bindparam("is_answered"),
            modseq=bindparam("b_modseq"),
        )
    )
    params = [
        {"b_id": row_of[uid], "b_modseq": u.modseq, **flag_columns(u.flags)} for uid, u in found.items()
    ]
    session.execute(stmt, params)
    return [row_of[uid] for uid in found]


def _account_owner(session: Session, account_id: str) -> tuple[str, str]:
    """(tenant_id, user_id) of the account: every row of it belongs to them."""
    row = session.execute(
        select(ACCOUNTS.c.tenant_id, ACCOUNTS.c.user_id).where(ACCOUNTS.c.id == account_id)
    ).one()
    return str(row[0]), str(row[1])


def delete_uids_headers(
    session: Session, account_id: str, folder_id: str, uidvalidity: int, uids: Iterable[int]
) -> list[str | None]:
    """Remove rows of messages expunged on the server (soft-deleted rows are left to the delete task),
    each a message.deleted change; returns each removed row's Message-ID header (RETURNING)."""
    wanted = sorted(set(uids))
    removed: list[str | None] = []
    removed_ids: list[str] = []
    for start in range(0, len(wanted), IN_CHUNK):
        stmt = (
            delete(MESSAGES)
            .where(
                MESSAGES.c.account_id == account_id,
                MESSAGES.c.folder_id == folder_id,
                MESSAGES.c.uidvalidity == uidvalidity,
                MESSAGES.c.uid.in_(wanted[start : start + IN_CHUNK]),
                MESSAGES.c.deleted_at.is_(None),
            )
            .returning(MESSAGES.c.id, MESSAGES.c.message_id_header)
        )
        for row_id, header in session.execute(stmt):
            removed_ids.append(row_id)
            removed.append(header)
    if removed_ids:
        owner = _account_owner(session, account_id)
        append_changes(session, owner, MESSAGE_DELETED, account_id, removed_ids, {"folder_id": folder_id})
    return removed


def count_rows(session: Session, account_id: str, folder_id: str, uidvalidity: int) -> int:
    """Rows of the folder plus messages still here on the server while their move is pending."""
    query = select(func.count()).where(
        MESSAGES.c.account_id == account_id,
        MESSAGES.c.folder_id == folder_id,
        MESSAGES.c.uidvalidity == uidvalidity,
    )
    moving = select(func.count()).where(
        ACTIONS.c.folder_id == folder_id,
        ACTIONS.c.uidvalidity == uidvalidity,
        ACTIONS.c.state == PENDING,
        ACTIONS.c.kind == MOVE,
    )
    both = select(query.scalar_subquery() + moving.scalar_subquery())  # one round trip
    return int(session.execute(both).scalar_one())


def finish_folder(
    session: Session, folder_id: str, info: SelectInfo, counts: tuple[int, int], scanned_at: datetime | None
) -> None:
    """Record the server state the folder is now in sync with, and its (total, unread) counts.

    The counts come from STATUS: counting rows instead would grow with the folder on every change.
    """
    values: dict[str, Any] = {
        "uidvalidity": info.uidvalidity,
        "uidnext": info.uidnext,
        "highestmodseq": info.highestmodseq,
        "total_count": counts[0],
        "unread_count": counts[1],
        "is_selectable": True,
    }
    if scanned_at is not None:
        values["last_full_scan_at"] = scanned_at
    session.execute(update(FOLDERS).where(FOLDERS.c.id == folder_id).values(**values))
