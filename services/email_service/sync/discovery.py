"""Folder discovery: mirror the server's selectable folders (with roles) into Folder rows.

A folder that no longer lists is deleted with its messages: its UIDs mean nothing any more, and a
folder recreated under the same name comes back with a new UIDVALIDITY anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from email_service.mail.imap.types import FolderInfo
from email_service.messages.actions.model import FOLDER_CREATE, FOLDER_RENAME, PENDING, MessageAction
from email_service.messages.folder_model import Folder
from email_service.messages.model import Message
from email_service.sync.store import FolderState


@dataclass
class DiscoveryResult:
    folders: list[FolderState] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class KnownFolders:
    """Folder rows as stored, read in the same transaction as the account (saves one on resync)."""

    states: list[FolderState]
    shape: dict[str, tuple[str | None, str | None, bool]]

    def matches(self, listed: Sequence[FolderInfo]) -> bool:
        """True when LIST shows exactly the stored folders with the same roles: nothing to write."""
        seen = {info.name: (info.role, info.delimiter, True) for info in listed}
        return seen == self.shape and len(seen) == len(listed)

    def ordered(self, listed: Sequence[FolderInfo]) -> list[FolderState]:
        by_name = {state.name: state for state in self.states}
        return [by_name[info.name] for info in listed]


def load_known(session: Session, account_id: str) -> KnownFolders:
    folders = list(session.scalars(select(Folder).where(Folder.account_id == account_id)))
    return KnownFolders(
        [FolderState.of(f) for f in folders],
        {f.name: (f.role, f.delimiter, f.is_selectable) for f in folders},
    )


def upsert_folders(
    session: Session, tenant_id: str, user_id: str, account_id: str, listed: Sequence[FolderInfo]
) -> DiscoveryResult:
    """Insert new folders, refresh role/delimiter of known ones, drop vanished ones; no write if unchanged."""
    existing = {f.name: f for f in session.scalars(select(Folder).where(Folder.account_id == account_id))}
    held, old_paths = _held(session, account_id)
    # Created or renamed here, not yet on the server: kept, but not synced until the task is done.
    held_names = {n for n, f in existing.items() if f.id in held}
    for name in held_names:
        existing.pop(name)
    result = DiscoveryResult()
    kept: list[Folder] = []
    for info in listed:
        if info.name in held_names or _under(info.name, old_paths):
            continue  # the old name of a pending rename: the rows already carry the new one
        folder = existing.pop(info.name, None)
        if folder is None:
            folder = Folder(
                tenant_id=tenant_id,
                user_id=user_id,
                account_id=account_id,
                name=info.name,
                delimiter=info.delimiter,
                role=info.role,
                is_selectable=True,
                synced_uid=0,
                total_count=0,
                unread_count=0,
            )
            session.add(folder)
            result.added.append(info.name)
        else:
            _refresh(folder, info)
        kept.append(folder)
    if existing:
        gone = [f.id for f in existing.values()]
        session.execute(delete(Message).where(Message.folder_id.in_(gone)))
        session.execute(delete(Folder).where(Folder.id.in_(gone)))
        result.removed = sorted(existing)
    session.flush()
    result.folders = [FolderState.of(f) for f in kept]
    return result


def forget_rows(session: Session, account_id: str, folder_ids: Sequence[str]) -> None:
    """Drop the rows of folders that are listed but no longer mirrored, and their checkpoints, so a
    folder mirrored again later starts from scratch instead of from a stale synced_uid."""
    if not folder_ids:
        return
    session.execute(
        delete(Message).where(Message.account_id == account_id, Message.folder_id.in_(folder_ids))
    )
    session.execute(
        update(Folder)
        .where(Folder.account_id == account_id, Folder.id.in_(folder_ids))
        .values(uidvalidity=None, uidnext=None, highestmodseq=None, synced_uid=0, last_full_scan_at=None)
    )


def _held(session: Session, account_id: str) -> tuple[set[str], list[tuple[str, str | None]]]:
    """Folder ids with a pending create or rename, and the old paths (with delimiter) being renamed."""
    query = select(MessageAction.kind, MessageAction.folder_id, MessageAction.data).where(
        MessageAction.account_id == account_id,
        MessageAction.state == PENDING,
        MessageAction.kind.in_([FOLDER_CREATE, FOLDER_RENAME]),
    )
    held: set[str] = set()
    old_paths: list[tuple[str, str | None]] = []
    rows = list(session.execute(query))
    if not rows:
        return held, old_paths
    folders = {f.id: f for f in session.scalars(select(Folder).where(Folder.account_id == account_id))}
    for kind, folder_id, data in rows:
        folder = folders.get(folder_id)
        if folder is None:
            continue
        held.add(folder.id)
        if kind == FOLDER_RENAME:
            new = str((data or {}).get("new", folder.name))
            old_paths.append((str((data or {}).get("old", "")), folder.delimiter))
            if folder.delimiter:  # its children carry the new path too
                held.update(f.id for f in folders.values() if f.name.startswith(new + folder.delimiter))
    return held, old_paths


def _under(name: str, paths: Sequence[tuple[str, str | None]]) -> bool:
    return any(name == path or (delim and name.startswith(path + delim)) for path, delim in paths)


def _refresh(folder: Folder, info: FolderInfo) -> None:
    """Assign only what changed, so an unchanged listing issues no UPDATE."""
    if folder.role != info.role:
        folder.role = info.role
    if folder.delimiter != info.delimiter:
        folder.delimiter = info.delimiter
    if not folder.is_selectable:
        folder.is_selectable = True
