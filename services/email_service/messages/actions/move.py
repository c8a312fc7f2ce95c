"""Moves: rows show the target folder at once, then a task MOVEs (else COPY + \\Deleted + UID EXPUNGE of
exactly those UIDs) and the rows follow to their new UIDs (COPYUID, else Message-ID).

While the move is pending a row's own coordinates are a placeholder (UIDVALIDITY 0, which no server
uses): the action row holds where the message still is, and the sync counts it there (sync/store.py),
so neither folder's sync duplicates or drops it. A failed move puts the row back where it was.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from email_service.core.db import session_scope
from email_service.core.errors import Conflict, NotFound, ValidationFailed
from email_service.core.model_base import new_id
from email_service.core.tasking.start import start_task
from email_service.core.tenancy.tokens import Identity
from email_service.deletion import store as deletion_store
from email_service.deletion.batches import (
    FolderHandler,
    MailOpsConnector,
    Outcome,
    group_by_folder,
    run_batches,
)
from email_service.deletion.service import move_rows
from email_service.deletion.store import Owner, Repoint, Target
from email_service.mail.imap.client import connect
from email_service.mail.imap.transfer import MailOps
from email_service.messages.actions import log
from email_service.messages.actions.flags import live_messages
from email_service.messages.actions.model import MOVE, PENDING
from email_service.messages.actions.runner import batch_status, finish_untouched, settle
from email_service.messages.folder_model import Folder
from email_service.messages.folders import get_folder, unmirrored_reason
from email_service.messages.model import Message

PLACEHOLDER_UIDVALIDITY = 0  # RFC 3501: UIDVALIDITY is a non-zero number, so no real row has it


def placeholder_uid() -> int:
    """A negative UID, unique enough that two pending moves into one folder never share a key."""
    return -(secrets.randbits(52) + 1)


def apply_locally(
    session: Session, owner: Owner, batch_id: str, ids: Sequence[str], folder_id: str
) -> list[Repoint]:
    """The request's transaction: rows now in the target folder, one pending action each.

    Returns where each row was, to put it back when the task cannot be queued.
    """
    target = get_folder(session, folder_id, *owner)
    if not target.is_selectable:
        raise NotFound("Folder not found", {"id": folder_id})
    reason = unmirrored_reason(session, target)
    if reason is not None:
        raise Conflict(reason, {"id": folder_id})
    messages = live_messages(session, owner, ids)
    if any(m.account_id != target.account_id for m in messages):
        raise ValidationFailed(
            "messages can only move to a folder of their own account", {"fields": [{"field": "folder_id"}]}
        )
    busy = log.pending_for(session, owner, [MOVE], [m.id for m in messages])
    if busy:
        raise Conflict("a move of this message is still pending", {"id": sorted(busy)[0]})
    before: list[Repoint] = []
    sources = set()
    for message in messages:
        if message.folder_id == target.id:
            continue
        log.add(
            session,
            owner,
            batch_id,
            MOVE,
            message.account_id,
            message_id=message.id,
            folder_id=message.folder_id,
            uidvalidity=message.uidvalidity,
            uid=message.uid,
            target_folder_id=target.id,
        )
        before.append(Repoint(message.id, message.folder_id, message.uidvalidity, message.uid))
        sources.add(message.folder_id)
        message.folder_id = target.id
        message.uidvalidity = PLACEHOLDER_UIDVALIDITY
        message.uid = placeholder_uid()
    session.flush()
    deletion_store.refresh_counts(session, owner, sources | {target.id})
    return before


def request_move(caller: Identity, email_ids: Sequence[str], folder_id: str) -> str:
    owner = Owner(caller.tenant_id, caller.user_id)
    batch_id = new_id()

    def undo(session: Session, before: list[Repoint]) -> None:
        _put_back(session, owner, before)
        log.drop_batch(session, owner, batch_id)

    return start_task(
        caller,
        "move_emails",
        {"batch_id": batch_id},
        prepare=lambda session: apply_locally(session, owner, batch_id, email_ids, folder_id),
        undo=undo,
    )


def _put_back(session: Session, owner: Owner, before: Sequence[Repoint]) -> None:
    accounts = {
        m.id: m.account_id
        for m in session.scalars(
            select(Message).where(
                deletion_store.owned_by(Message, owner), Message.id.in_([b.message_id for b in before])
            )
        )
    }
    for repoint in before:
        account_id = accounts.get(repoint.message_id)
        if account_id is not None:
            deletion_store.repoint(session, owner, account_id, [repoint], restore=False)


def _revert_moves(session: Session, owner: Owner, actions: Sequence[log.Action]) -> None:
    _put_back(
        session,
        owner,
        [
            Repoint(a.message_id, a.folder_id, a.uidvalidity, a.uid)
            for a in actions
            if a.message_id and a.folder_id and a.uidvalidity is not None and a.uid is not None
        ],
    )


def _targets(session: Session, owner: Owner, actions: Sequence[log.Action]) -> list[Target]:
    """Each pending message where the server still has it (the action's coordinates)."""
    ids = [a.message_id for a in actions if a.message_id]
    headers = dict(
        session.execute(
            select(Message.id, Message.message_id_header).where(
                deletion_store.owned_by(Message, owner), Message.id.in_(ids)
            )
        ).all()
    )
    folders = {f.id: f for f in session.scalars(select(Folder).where(deletion_store.owned_by(Folder, owner)))}
    out = []
    for a in actions:
        source = folders.get(a.folder_id or "")
        if a.message_id not in headers or source is None or a.uidvalidity is None or a.uid is None:
            continue
        out.append(
            Target(
                a.message_id,
                a.account_id,
                source.id,
                source.name,
                source.role,
                a.uidvalidity,
                a.uid,
                headers[a.message_id],
                None,
                False,
            )
        )
    return out


def run_move(
    batch_id: str, tenant_id: str, user_id: str, final: bool = True, connector: MailOpsConnector = connect
) -> tuple[Outcome, dict[str, Any]]:
    """The task: per source folder, move to the target and re-point rows (or purge a message gone)."""
    owner = Owner(tenant_id, user_id)
    with session_scope(tenant_id) as session:
        actions = [a for a in log.batch(session, owner, batch_id, count_attempt=True) if a.state == PENDING]
        targets = _targets(session, owner, actions)
        dest_id = actions[0].target_folder_id if actions else None
        dest = session.scalars(
            select(Folder).where(deletion_store.owned_by(Folder, owner), Folder.id == dest_id)
        ).first()
        dest_ref = (dest.id, dest.name) if dest is not None else None
    by_message = {a.message_id: a for a in actions}
    outcome = Outcome([t.id for t in targets])
    if dest_ref is None:
        outcome.fail([t.id for t in targets], "the target folder no longer exists")
    else:
        run_batches(owner, group_by_folder(targets), _move_handler(owner, dest_ref), outcome, connector)
    settle(owner, outcome, by_message, final, _revert_moves)
    actions = finish_untouched(owner, batch_id, outcome)
    result = {"status": batch_status(actions), "action": "move", "folder_id": dest_id, **log.summary(actions)}
    return outcome, result


def _move_handler(owner: Owner, dest: tuple[str, str]) -> FolderHandler:
    def handle(imap: MailOps, targets: list[Target]) -> list[str]:
        """A message the server no longer has anywhere is purged (the mirror follows the server)."""
        move_rows(owner, imap, targets, dest, restore=False)
        return [t.id for t in targets]

    return handle
