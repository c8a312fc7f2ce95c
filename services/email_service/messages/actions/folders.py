"""Folders: create (under a parent, with the server's delimiter), rename (children follow), delete.

The folder list changes in the request's transaction (a new row, new paths, or the folder hidden while
its delete is pending); a task then runs CREATE / RENAME / DELETE, each first checking the server so a
retry never fails on its own earlier success. INBOX and role folders cannot be renamed or deleted (409).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from email_service.accounts.mail_settings import imap_settings
from email_service.accounts.model import EmailAccount
from email_service.accounts.oauth.refresh import ensure_fresh_token
from email_service.accounts.service import load_account_for_task
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.errors import Conflict, ValidationFailed
from email_service.core.model_base import new_id
from email_service.core.tasking.start import start_task
from email_service.core.tenancy.scoping import get_owned
from email_service.core.tenancy.tokens import Identity
from email_service.deletion import store as deletion_store
from email_service.deletion.batches import MailOpsConnector, Outcome
from email_service.deletion.store import Owner
from email_service.mail.imap.client import (
    ImapSession,
    connect,
)
from email_service.messages.actions import log
from email_service.messages.actions.model import (
    FOLDER_CREATE,
    FOLDER_DELETE,
    FOLDER_KINDS,
    FOLDER_RENAME,
    PENDING,
    MessageAction,
)
from email_service.messages.actions.runner import WRITE_BACK_FAILURES, batch_status, failure_reason
from email_service.messages.folder_model import Folder
from email_service.messages.folders import get_folder
from email_service.messages.model import Message


def leaf_name(path: str, delimiter: str | None) -> str:
    return path.rsplit(delimiter, 1)[-1] if delimiter else path


def parent_path(path: str, delimiter: str | None) -> str | None:
    if not delimiter or delimiter not in path:
        return None
    return path.rsplit(delimiter, 1)[0]


def _check_name(name: str, delimiter: str | None) -> str:
    cleaned = name.strip()
    bad = not cleaned or any(unicodedata.category(c)[0] == "C" for c in cleaned)
    if bad or (delimiter and delimiter in cleaned) or cleaned in {".", ".."} or cleaned.startswith("~"):
        raise ValidationFailed(
            "name must be a non-empty folder name without control characters or the server's delimiter",
            {"fields": [{"field": "name", "message": "invalid folder name"}]},
        )
    return cleaned


def _account_folders(session: Session, owner: Owner, account_id: str) -> list[Folder]:
    query = select(Folder).where(deletion_store.owned_by(Folder, owner), Folder.account_id == account_id)
    return list(session.scalars(query))


def _descendants(folders: Sequence[Folder], folder: Folder) -> list[Folder]:
    if not folder.delimiter:
        return []
    prefix = folder.name + folder.delimiter
    return [f for f in folders if f.name.startswith(prefix)]


def _ancestors(folders: Sequence[Folder], folder: Folder) -> list[Folder]:
    if not folder.delimiter:
        return []
    return [f for f in folders if folder.name.startswith(f.name + folder.delimiter)]


def _not_busy(session: Session, owner: Owner, folder_ids: Sequence[str]) -> None:
    query = select(MessageAction.folder_id).where(
        log.owned(owner),
        MessageAction.state == PENDING,
        MessageAction.kind.in_(FOLDER_KINDS),
        MessageAction.folder_id.in_(list(folder_ids)),
    )
    if session.scalars(query.limit(1)).first() is not None:
        raise Conflict("a change of this folder is still pending", {"id": folder_ids[0]})


def _changeable(folder: Folder) -> None:
    if folder.role is not None or folder.name.upper() == "INBOX":
        raise Conflict("INBOX and role folders cannot be renamed or deleted", {"id": folder.id})


def _taken(folders: Sequence[Folder], path: str) -> None:
    if path.upper() == "INBOX" or any(f.name == path for f in folders):
        raise Conflict("a folder with this name exists", {"path": path})


# -- create ----------------------------------------------------------------------------------------


def _apply_create(
    session: Session, owner: Owner, batch_id: str, account_id: str, name: str, parent_id: str | None
) -> str:
    get_owned(session, EmailAccount, account_id, *owner)
    folders = _account_folders(session, owner, account_id)
    parent = get_folder(session, parent_id, *owner, account_id=account_id) if parent_id else None
    delimiter = (
        parent.delimiter if parent is not None else next((f.delimiter for f in folders if f.delimiter), None)
    )
    if parent is not None and not delimiter:
        raise Conflict("the server has no folder hierarchy", {"id": parent.id})
    if parent is not None:
        _not_busy(session, owner, [parent.id, *(f.id for f in _ancestors(folders, parent))])
    leaf = _check_name(name, delimiter)
    path = f"{parent.name}{delimiter}{leaf}" if parent is not None else leaf
    _taken(folders, path)
    folder = Folder(
        tenant_id=owner.tenant_id,
        user_id=owner.user_id,
        account_id=account_id,
        name=path,
        delimiter=delimiter,
        role=None,
        is_selectable=True,
        synced_uid=0,
        total_count=0,
        unread_count=0,
    )
    session.add(folder)
    session.flush()
    log.add(session, owner, batch_id, FOLDER_CREATE, account_id, folder_id=folder.id, data={"path": path})
    return folder.id


def request_create(caller: Identity, account_id: str, name: str, parent_id: str | None) -> tuple[str, str]:
    """Returns (task id, new folder id): the folder lists at once."""
    owner = Owner(caller.tenant_id, caller.user_id)
    batch_id = new_id()
    created: list[str] = []

    def prepare(session: Session) -> str:
        created.append(_apply_create(session, owner, batch_id, account_id, name, parent_id))
        return created[0]

    def undo(session: Session, folder_id: str) -> None:
        log.drop_batch(session, owner, batch_id)
        _drop_folders(session, owner, [folder_id])

    task_id = start_task(caller, "folder_action", {"batch_id": batch_id}, account_id, prepare, undo)
    return task_id, created[0]


# -- rename ----------------------------------------------------------------------------------------


def _set_paths(folders: Sequence[Folder], old: str, new: str, delimiter: str | None) -> None:
    for folder in folders:
        if folder.name == old:
            folder.name = new
        elif delimiter and folder.name.startswith(old + delimiter):
            folder.name = new + folder.name[len(old) :]


def _apply_rename(
    session: Session, owner: Owner, batch_id: str, account_id: str, folder_id: str, name: str
) -> tuple[str, str]:
    folder = get_folder(session, folder_id, *owner, account_id=account_id)
    _changeable(folder)
    folders = _account_folders(session, owner, account_id)
    family = [folder, *_descendants(folders, folder)]
    _not_busy(session, owner, [f.id for f in [*family, *_ancestors(folders, folder)]])
    leaf = _check_name(name, folder.delimiter)
    above = parent_path(folder.name, folder.delimiter)
    old, new = folder.name, (f"{above}{folder.delimiter}{leaf}" if above is not None else leaf)
    if new == old:
        raise ValidationFailed("the folder already has this name", {"fields": [{"field": "name"}]})
    _taken(folders, new)
    _set_paths(family, old, new, folder.delimiter)
    session.flush()
    log.add(
        session,
        owner,
        batch_id,
        FOLDER_RENAME,
        account_id,
        folder_id=folder.id,
        data={"old": old, "new": new},
    )
    return old, new


def request_rename(caller: Identity, account_id: str, folder_id: str, name: str) -> str:
    owner = Owner(caller.tenant_id, caller.user_id)
    batch_id = new_id()

    def undo(session: Session, paths: tuple[str, str]) -> None:
        log.drop_batch(session, owner, batch_id)
        _rename_rows(session, owner, account_id, paths[1], paths[0])

    return start_task(
        caller,
        "folder_action",
        {"batch_id": batch_id},
        account_id,
        lambda session: _apply_rename(session, owner, batch_id, account_id, folder_id, name),
        undo,
    )


def _rename_rows(session: Session, owner: Owner, account_id: str, old: str, new: str) -> None:
    folders = _account_folders(session, owner, account_id)
    delimiter = next((f.delimiter for f in folders if f.name == old), None)
    _set_paths(folders, old, new, delimiter)
    session.flush()


# -- delete ----------------------------------------------------------------------------------------


def _apply_delete(session: Session, owner: Owner, batch_id: str, account_id: str, folder_id: str) -> None:
    """Hidden from the folder list while pending: one pending row for it and each of its children."""
    folder = get_folder(session, folder_id, *owner, account_id=account_id)
    _changeable(folder)
    folders = _account_folders(session, owner, account_id)
    family = [folder, *_descendants(folders, folder)]
    for child in family[1:]:
        if child.role is not None:
            raise Conflict("the folder holds a role folder", {"id": child.id})
    _not_busy(session, owner, [f.id for f in [*family, *_ancestors(folders, folder)]])
    for member in family:
        data = {"path": member.name, "root": member.id == folder.id}
        log.add(session, owner, batch_id, FOLDER_DELETE, account_id, folder_id=member.id, data=data)


def request_delete(caller: Identity, account_id: str, folder_id: str) -> str:
    owner = Owner(caller.tenant_id, caller.user_id)
    batch_id = new_id()
    return start_task(
        caller,
        "folder_action",
        {"batch_id": batch_id},
        account_id,
        lambda session: _apply_delete(session, owner, batch_id, account_id, folder_id),
        lambda session, _: log.drop_batch(session, owner, batch_id),
    )


def _drop_folders(session: Session, owner: Owner, folder_ids: Sequence[str]) -> None:
    """Rows of folders gone from the server, with their messages (and attachment blobs)."""
    if not folder_ids:
        return
    messages = select(Message.id).where(
        deletion_store.owned_by(Message, owner), Message.folder_id.in_(folder_ids)
    )
    deletion_store.purge(session, owner, list(session.scalars(messages)))
    for folder in session.scalars(
        select(Folder).where(deletion_store.owned_by(Folder, owner), Folder.id.in_(folder_ids))
    ):
        session.delete(folder)
    session.flush()


# -- the task --------------------------------------------------------------------------------------


def _on_server(imap: ImapSession, actions: Sequence[log.Action]) -> None:
    """Run the batch's command; each first checks whether an earlier attempt already did it."""
    first = actions[0]
    if first.kind == FOLDER_CREATE:
        path = first.data["path"]
        if not imap.folder_exists(path):
            imap.create_folder(path)
    elif first.kind == FOLDER_RENAME:
        old, new = first.data["old"], first.data["new"]
        if imap.folder_exists(old) or not imap.folder_exists(new):
            imap.rename_folder(old, new)
    else:  # children first, deepest first: a folder with children cannot go before them
        for path in sorted((a.data["path"] for a in actions), key=len, reverse=True):
            if imap.folder_exists(path):
                imap.delete_folder(path)


def _revert(session: Session, owner: Owner, actions: Sequence[log.Action]) -> None:
    first = actions[0]
    if first.kind == FOLDER_CREATE:
        _drop_folders(session, owner, [a.folder_id for a in actions if a.folder_id])
    elif first.kind == FOLDER_RENAME:
        _rename_rows(session, owner, first.account_id, first.data["new"], first.data["old"])
    # a delete changed nothing but the folder list's filter, which ends with the pending rows


def _confirm(session: Session, owner: Owner, actions: Sequence[log.Action]) -> None:
    if actions[0].kind == FOLDER_DELETE:
        _drop_folders(session, owner, [a.folder_id for a in actions if a.folder_id])


def run_folder_action(
    batch_id: str, tenant_id: str, user_id: str, final: bool = True, connector: MailOpsConnector = connect
) -> tuple[Outcome, dict[str, Any]]:
    owner = Owner(tenant_id, user_id)
    with session_scope(tenant_id) as session:
        actions = [a for a in log.batch(session, owner, batch_id, count_attempt=True) if a.state == PENDING]
    root = next((a for a in actions if a.kind != FOLDER_DELETE or a.data.get("root")), None)
    outcome = Outcome([a.folder_id or "" for a in actions])
    if actions:
        reason, retryable = _run(owner, actions, connector)
        with session_scope(tenant_id) as session:
            if reason is None:
                _confirm(session, owner, actions)
                log.finish(session, owner, [a.id for a in actions])
                outcome.succeed(a.folder_id or "" for a in actions)
            else:
                outcome.fail([a.folder_id or "" for a in actions], reason, retryable)
                if final or not retryable:
                    _revert(session, owner, actions)
                    log.finish(session, owner, [a.id for a in actions], reason=reason)
    with session_scope(tenant_id) as session:
        everything = log.batch(session, owner, batch_id)
    first = root or next(iter(everything), None)
    result = {
        "status": batch_status(everything),
        "action": first.kind if first else None,
        "folder_id": first.folder_id if first else None,
        **log.summary(everything),
    }
    return outcome, result


def _run(owner: Owner, actions: Sequence[log.Action], connector: MailOpsConnector) -> tuple[str | None, bool]:
    """(None, _) when done, else (reason, retryable)."""
    try:
        ensure_fresh_token(owner.tenant_id, owner.user_id, actions[0].account_id)
        with session_scope(owner.tenant_id) as session:
            account = load_account_for_task(session, actions[0].account_id, *owner)
            settings = imap_settings(account, get_secret_box())
        with connector(settings) as imap:
            _on_server(imap, actions)  # type: ignore[arg-type]
    except WRITE_BACK_FAILURES as exc:
        return failure_reason(exc)
    return None, False


__all__ = ["leaf_name", "request_create", "request_delete", "request_rename", "run_folder_action"]
