"""DB side of delete/restore: owned targets as plain values, hide/unhide, re-point after a move, purge.

Every statement, reads and writes alike, filters on tenant and user: ids of anyone else simply
come back as not found, and nothing here relies on row-level security (SQLite has none, and a
system session bypasses it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.orm import Session

from email_service.accounts.model import EmailAccount
from email_service.events.log import append_per_account
from email_service.events.model import MESSAGE_CREATED, MESSAGE_DELETED
from email_service.messages.attachment_model import Attachment
from email_service.messages.folder_model import Folder
from email_service.messages.model import Message

IN_CHUNK = 1000  # bound the size of IN (...) lists


class Owner(NamedTuple):
    """Whose rows a statement may touch."""

    tenant_id: str
    user_id: str


def owned_by(model: Any, owner: Owner) -> Any:
    """The where-clause of rows (of any tenant table) that belong to owner."""
    return and_(model.tenant_id == owner.tenant_id, model.user_id == owner.user_id)


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
    owner = Owner(tenant_id, user_id)
    out: list[Target] = []
    for chunk in _chunks(ids):
        query = (
            select(Message, Folder.name, Folder.role)
            .join(Folder, Folder.id == Message.folder_id)
            .where(owned_by(Message, owner), owned_by(Folder, owner), Message.id.in_(chunk))
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
        owned = and_(owned_by(Message, Owner(tenant_id, user_id)), Message.id.in_(chunk))
        visible = select(Message.account_id, Message.id).where(owned, Message.deleted_at.is_(None))
        found = session.execute(visible).all()
        newly.extend(row.id for row in found)
        append_per_account(session, (tenant_id, user_id), MESSAGE_DELETED, ((a, i) for a, i in found))
        session.execute(
            update(Message)
            .where(owned, Message.deleted_at.is_(None))
            .values(
                deleted_at=now,
                original_folder_id=func.coalesce(Message.original_folder_id, Message.folder_id),
            )
            .execution_options(synchronize_session=False)
        )
    owner = Owner(tenant_id, user_id)
    refresh_counts(session, owner, _folders_of(session, owner, ids))
    return newly


def _announce_shown(session: Session, owner: Owner, rows: Iterable[tuple[str, str]]) -> None:
    """(account_id, id) rows visible again (restored, or a delete undone) are message.created in the change
    log: a feed reader or webhook receiver that dropped them on message.deleted gets them back."""
    append_per_account(session, (owner.tenant_id, owner.user_id), MESSAGE_CREATED, rows)


def _hidden(session: Session, owner: Owner, chunk: Sequence[str]) -> list[tuple[str, str]]:
    query = select(Message.account_id, Message.id).where(
        owned_by(Message, owner), Message.id.in_(chunk), Message.deleted_at.is_not(None)
    )
    return [(row.account_id, row.id) for row in session.execute(query)]


def unhide(session: Session, tenant_id: str, user_id: str, ids: Sequence[str]) -> None:
    """Show messages again where they are (restore in place, or undo a request whose task never started)."""
    owner = Owner(tenant_id, user_id)
    for chunk in _chunks(ids):
        _announce_shown(session, owner, _hidden(session, owner, chunk))
        session.execute(
            update(Message)
            .where(owned_by(Message, owner), Message.id.in_(chunk))
            .values(deleted_at=None, original_folder_id=None)
            .execution_options(synchronize_session=False)
        )
    refresh_counts(session, owner, _folders_of(session, owner, ids))


def show_again(session: Session, owner: Owner, ids: Sequence[str]) -> list[str]:
    """Un-hide rows a permanent delete left on the server; returns the ids now visible again.

    A row soft-deleted earlier and moved to Trash (original folder elsewhere) stays hidden and
    restorable, as it was before the request; a row hidden in place becomes visible where it is.
    """
    shown: list[str] = []
    for chunk in _chunks(ids):
        in_place = and_(
            owned_by(Message, owner),
            Message.id.in_(chunk),
            Message.deleted_at.is_not(None),
            func.coalesce(Message.original_folder_id, Message.folder_id) == Message.folder_id,
        )
        rows = session.execute(select(Message.account_id, Message.id).where(in_place)).all()
        shown.extend(row.id for row in rows)
        _announce_shown(session, owner, [(row.account_id, row.id) for row in rows])
        session.execute(
            update(Message)
            .where(in_place)
            .values(deleted_at=None, original_folder_id=None)
            .execution_options(synchronize_session=False)
        )
    refresh_counts(session, owner, _folders_of(session, owner, shown))
    return sorted(shown)


def repoint(session: Session, owner: Owner, account_id: str, moves: Sequence[Repoint], restore: bool) -> None:
    """Follow messages to their new (folder, uidvalidity, uid) so the next sync finds them known.

    A row a concurrent sync inserted for the same server message is a duplicate mirror: it goes.
    """
    old_folders = _folders_of(session, owner, [m.message_id for m in moves])
    for move in moves:
        clash = select(Message.id).where(
            owned_by(Message, owner),
            Message.account_id == account_id,
            Message.folder_id == move.folder_id,
            Message.uidvalidity == move.uidvalidity,
            Message.uid == move.uid,
            Message.id != move.message_id,
        )
        purge(session, owner, list(session.execute(clash).scalars()))
        values: dict[str, object] = {
            "folder_id": move.folder_id,
            "uidvalidity": move.uidvalidity,
            "uid": move.uid,
        }
        if restore:
            values.update(deleted_at=None, original_folder_id=None)
            _announce_shown(session, owner, _hidden(session, owner, [move.message_id]))
        session.execute(
            update(Message)
            .where(owned_by(Message, owner), Message.id == move.message_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    refresh_counts(session, owner, old_folders | {m.folder_id for m in moves})


def purge(session: Session, owner: Owner, ids: Sequence[str]) -> None:
    """Remove rows, bodies and attachment blobs for good."""
    folders = _folders_of(session, owner, ids)
    for chunk in _chunks(ids):
        session.execute(
            delete(Attachment).where(owned_by(Attachment, owner), Attachment.message_id.in_(chunk))
        )
        session.execute(delete(Message).where(owned_by(Message, owner), Message.id.in_(chunk)))
    refresh_counts(session, owner, folders)


def folder_by_id(session: Session, owner: Owner, account_id: str, folder_id: str | None) -> Folder | None:
    """A selectable folder of this account (a restore target may have been deleted meanwhile)."""
    if folder_id is None:
        return None
    query = select(Folder).where(
        owned_by(Folder, owner),
        Folder.id == folder_id,
        Folder.account_id == account_id,
        Folder.is_selectable.is_(True),
    )
    return session.scalars(query).first()


def refresh_counts(session: Session, owner: Owner, folder_ids: Iterable[str]) -> None:
    """Keep the folder list's visible total/unread counts right without waiting for the next sync."""
    for folder_id in sorted(set(folder_ids)):
        visible = and_(owned_by(Message, owner), Message.folder_id == folder_id, Message.deleted_at.is_(None))
        unread = func.coalesce(func.sum(case((Message.is_read.is_(False), 1), else_=0)), 0)
        total, unseen = session.execute(select(func.count(), unread).where(visible)).one()
        session.execute(
            update(Folder)
            .where(owned_by(Folder, owner), Folder.id == folder_id)
            .values(total_count=int(total), unread_count=int(unseen))
            .execution_options(synchronize_session=False)
        )


def _folders_of(session: Session, owner: Owner, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(ids):
        query = select(Message.folder_id).where(owned_by(Message, owner), Message.id.in_(chunk))
        found.update(session.execute(query).scalars())
    return found


def pop3_uidls(session: Session, owner: Owner, ids: Sequence[str]) -> dict[str, str | None]:
    """{message id: its POP3 UIDL} for the owned rows of POP3 accounts among `ids`."""
    found: dict[str, str | None] = {}
    for chunk in _chunks(ids):
        query = (
            select(Message.id, Message.pop3_uidl)
            .join(EmailAccount, EmailAccount.id == Message.account_id)
            .where(owned_by(Message, owner), Message.id.in_(chunk), EmailAccount.protocol == "pop3")
        )
        found.update({str(i): u for i, u in session.execute(query).tuples()})
    return found
