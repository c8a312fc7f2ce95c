"""DB side of delete/restore: owned targets as plain values, hide/unhide, re-point after a move, purge.

Every lookup is scoped to tenant and user, so ids of anyone else simply come back as not found.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.orm import Session

from email_service.models import Attachment, Folder, Message

IN_CHUNK = 1000  # bound the size of IN (...) lists


@dataclass(frozen=True)
class Target:
    """One owned message and where it lives on the server."""

    id: str
    account_id: str
    folder_id: str
    folder_name: str
    folder_role: str | None
    uidvalidity: int
    uid: int
    message_id_header: str | None
    original_folder_id: str | None
    hidden: bool


@dataclass(frozen=True)
class Repoint:
    """A message now at `uid` in `folder_id` (after MOVE); restore also clears the soft-delete marks."""

    message_id: str
    folder_id: str
    uidvalidity: int
    uid: int


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), IN_CHUNK):
        yield list(ids[start : start + IN_CHUNK])


def load_targets(session: Session, tenant_id: str, user_id: str, ids: Sequence[str]) -> list[Target]:
    """The caller's messages among `ids` with their folder; foreign or unknown ids are left out."""
    out: list[Target] = []
    for chunk in _chunks(ids):
        query = (
            select(Message, Folder.name, Folder.role)
            .join(Folder, Folder.id == Message.folder_id)
            .where(Message.tenant_id == tenant_id, Message.user_id == user_id, Message.id.in_(chunk))
        )
        for message, name, role in session.execute(query):
            out.append(
                Target(
                    message.id,
                    message.account_id,
                    message.folder_id,
                    name,
                    role,
                    message.uidvalidity,
                    message.uid,
                    message.message_id_header,
                    message.original_folder_id,
                    message.deleted_at is not None,
                )
            )
    return out


def hide(session: Session, tenant_id: str, user_id: str, ids: Sequence[str]) -> list[str]:
    """Soft-delete marks (idempotent); returns the ids that were visible until now."""
    now = datetime.now(UTC)
    newly: list[str] = []
    for chunk in _chunks(ids):
        owned = and_(Message.tenant_id == tenant_id, Message.user_id == user_id, Message.id.in_(chunk))
        visible = select(Message.id).where(owned, Message.deleted_at.is_(None))
        newly.extend(session.execute(visible).scalars())
        session.execute(
            update(Message)
            .where(owned, Message.deleted_at.is_(None))
            .values(
                deleted_at=now,
                original_folder_id=func.coalesce(Message.original_folder_id, Message.folder_id),
            )
            .execution_options(synchronize_session=False)
        )
    refresh_counts(session, _folders_of(session, ids))
    return newly


def unhide(session: Session, tenant_id: str, user_id: str, ids: Sequence[str]) -> None:
    """Show messages again where they are (restore in place, or undo a request whose task never started)."""
    for chunk in _chunks(ids):
        session.execute(
            update(Message)
            .where(Message.tenant_id == tenant_id, Message.user_id == user_id, Message.id.in_(chunk))
            .values(deleted_at=None, original_folder_id=None)
            .execution_options(synchronize_session=False)
        )
    refresh_counts(session, _folders_of(session, ids))


def repoint(session: Session, account_id: str, moves: Sequence[Repoint], restore: bool) -> None:
    """Follow messages to their new (folder, uidvalidity, uid) so the next sync finds them known.

    A row a concurrent sync inserted for the same server message is a duplicate mirror: it goes.
    """
    old_folders = _folders_of(session, [m.message_id for m in moves])
    for move in moves:
        clash = select(Message.id).where(
            Message.account_id == account_id,
            Message.folder_id == move.folder_id,
            Message.uidvalidity == move.uidvalidity,
            Message.uid == move.uid,
            Message.id != move.message_id,
        )
        purge(session, list(session.execute(clash).scalars()))
        values: dict[str, object] = {
            "folder_id": move.folder_id,
            "uidvalidity": move.uidvalidity,
            "uid": move.uid,
        }
        if restore:
            values.update(deleted_at=None, original_folder_id=None)
        session.execute(
            update(Message)
            .where(Message.id == move.message_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    refresh_counts(session, old_folders | {m.folder_id for m in moves})


def purge(session: Session, ids: Sequence[str]) -> None:
    """Remove rows, bodies and attachment blobs for good."""
    folders = _folders_of(session, ids)
    for chunk in _chunks(ids):
        session.execute(delete(Attachment).where(Attachment.message_id.in_(chunk)))
        session.execute(delete(Message).where(Message.id.in_(chunk)))
    refresh_counts(session, folders)


def folder_by_id(session: Session, account_id: str, folder_id: str | None) -> Folder | None:
    """A selectable folder of this account (a restore target may have been deleted meanwhile)."""
    if folder_id is None:
        return None
    folder = session.get(Folder, folder_id)
    if folder is None or folder.account_id != account_id or not folder.is_selectable:
        return None
    return folder


def refresh_counts(session: Session, folder_ids: Iterable[str]) -> None:
    """Keep the folder list's visible total/unread counts right without waiting for the next sync."""
    for folder_id in sorted(set(folder_ids)):
        visible = and_(Message.folder_id == folder_id, Message.deleted_at.is_(None))
        unread = func.coalesce(func.sum(case((Message.is_read.is_(False), 1), else_=0)), 0)
        total, unseen = session.execute(select(func.count(), unread).where(visible)).one()
        session.execute(
            update(Folder)
            .where(Folder.id == folder_id)
            .values(total_count=int(total), unread_count=int(unseen))
            .execution_options(synchronize_session=False)
        )


def _folders_of(session: Session, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(ids):
        found.update(session.execute(select(Message.folder_id).where(Message.id.in_(chunk))).scalars())
    return found
