"""Folders as the API shows them, with counts kept current by the sync engine."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from email_service.core.errors import NotFound
from email_service.core.tenancy.scoping import get_owned, scoped
from email_service.messages.actions.model import FOLDER_DELETE, PENDING, MessageAction
from email_service.messages.folder_model import Folder


def get_folder(
    session: Session, folder_id: str, tenant_id: str, user_id: str, account_id: str | None = None
) -> Folder:
    folder = get_owned(session, Folder, folder_id, tenant_id, user_id)
    if account_id is not None and folder.account_id != account_id:
        raise NotFound("Folder not found", {"id": folder_id})
    return folder


def list_folders(session: Session, account_id: str, tenant_id: str, user_id: str) -> list[Folder]:
    """The account's folders, less those whose delete is pending (they are gone for the user)."""
    deleting = select(MessageAction.folder_id).where(
        MessageAction.tenant_id == tenant_id,
        MessageAction.user_id == user_id,
        MessageAction.account_id == account_id,
        MessageAction.kind == FOLDER_DELETE,
        MessageAction.state == PENDING,
    )
    query = (
        scoped(Folder, tenant_id, user_id)
        .where(Folder.account_id == account_id, Folder.id.not_in(deleting))
        .order_by(Folder.name)
    )
    return list(session.scalars(query))


def folder_by_role(
    session: Session, account_id: str, role: str, tenant_id: str, user_id: str
) -> Folder | None:
    """The account's selectable folder with this role; scoped to the owner, so no RLS is needed."""
    query = scoped(Folder, tenant_id, user_id).where(
        Folder.account_id == account_id, Folder.role == role, Folder.is_selectable.is_(True)
    )
    return session.scalars(query.limit(1)).first()


GMAIL_MIRRORED_ROLES = ("all", "junk", "trash")  # the folders a Gmail account is synced from


def unmirrored_reason(session: Session, target: Folder) -> str | None:
    """Why rows cannot live in `target` (None when they can): moved there, they would be copies no
    sync keeps (see sync/mirrored.py). A `\\All` folder never holds rows of its own; on Gmail (its
    All Mail is the synced folder) a label folder does not either."""
    if target.role == "all" and target.uidvalidity is None:
        return "a \\All folder shows every message already; it is not a move target"
    if target.role in GMAIL_MIRRORED_ROLES:
        return None
    all_mail = select(Folder.id).where(
        Folder.account_id == target.account_id, Folder.role == "all", Folder.uidvalidity.is_not(None)
    )
    if session.scalars(all_mail.limit(1)).first() is not None:
        return (
            "on Gmail a label folder is not synced: move to All Mail, Spam or Trash (labels stay as they are)"
        )
    return None


def folder_view(folder: Folder) -> dict[str, Any]:
    return {
        "id": folder.id,
        "account_id": folder.account_id,
        "name": folder.name.rsplit(folder.delimiter, 1)[-1] if folder.delimiter else folder.name,
        "path": folder.name,
        "role": folder.role,
        "delimiter": folder.delimiter,
        "total_count": folder.total_count,
        "unread_count": folder.unread_count,
        "last_synced_uidnext": folder.uidnext,
    }
