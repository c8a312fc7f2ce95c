"""Use case: restore soft-deleted messages to the folder they came from and show them again.

A message never moved (still in its original folder) is only un-hidden; one in Trash is moved back
on the server and its row follows it. A vanished original folder falls back to the Inbox.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from email_service.core.db import session_scope
from email_service.deletion import store as store
from email_service.deletion.batches import (
    FolderHandler,
    MailOpsConnector,
    Outcome,
    group_by_folder,
    run_batches,
    unique_ids,
)
from email_service.deletion.service import move_rows
from email_service.deletion.store import Owner, Target
from email_service.mail.imap.client import connect
from email_service.mail.imap.transfer import MailOps
from email_service.messages.folders import folder_by_role

FolderRef = tuple[str, str]  # id, name


def restore_messages(
    email_ids: Sequence[str], tenant_id: str, user_id: str, connector: MailOpsConnector = connect
) -> tuple[Outcome, dict[str, Any]]:
    """Run a restore; returns the outcome (retryable tells the task to try again) and the task result."""
    owner = Owner(tenant_id, user_id)
    ids = unique_ids(email_ids)
    outcome = Outcome(ids)
    with session_scope(tenant_id) as session:
        targets = store.load_targets(session, tenant_id, user_id, ids)
        dests = {t.id: _destination(session, owner, t) for t in targets if t.hidden}
        in_place = [t.id for t in targets if _stays(dests.get(t.id), t)]
        store.unhide(session, tenant_id, user_id, in_place)
    outcome.succeed(t.id for t in targets if not t.hidden)
    outcome.succeed(in_place)
    outcome.fail(
        [i for i, d in dests.items() if d is None], "no folder to restore to; sync the account first"
    )
    pending = [t for t in targets if dests.get(t.id) is not None and t.id not in in_place]
    handler = _move_back_handler(owner, dests, outcome)
    run_batches(owner, group_by_folder(pending), handler, outcome, connector)
    return outcome, outcome.as_dict("restored_count", [t.id for t in targets])


def _destination(session: Session, owner: Owner, target: Target) -> FolderRef | None:
    """The original folder if it still exists, else the Inbox; never moved means restore in place."""
    if target.original_folder_id is None or target.original_folder_id == target.folder_id:
        return (target.folder_id, target.folder_name)
    folder = store.folder_by_id(session, owner, target.account_id, target.original_folder_id)
    if folder is None:
        folder = folder_by_role(session, target.account_id, "inbox", *owner)
    return (folder.id, folder.name) if folder is not None else None


def _stays(dest: FolderRef | None, target: Target) -> bool:
    return dest is not None and dest[0] == target.folder_id


def _move_back_handler(owner: Owner, dests: dict[str, FolderRef | None], outcome: Outcome) -> FolderHandler:
    def handle(imap: MailOps, targets: list[Target]) -> list[str]:
        """One MOVE per destination folder; a message gone from the server cannot come back."""
        by_dest: dict[FolderRef, list[Target]] = defaultdict(list)
        for target in targets:
            dest = dests[target.id]
            if dest is not None:
                by_dest[dest].append(target)
        done: list[str] = []
        for dest, group in by_dest.items():
            gone = set(move_rows(owner, imap, group, dest, restore=True))
            outcome.fail(gone, "the message no longer exists on the server")
            done.extend(t.id for t in group if t.id not in gone)
        return done

    return handle
