"""Use case: delete messages, soft (hide, move to Trash, restorable) or permanent (expunge and purge).

The API hides messages in the request that records the task; the task then acts on the server
folder by folder and re-points or purges rows so the next sync neither resurrects nor duplicates.
A permanent delete that leaves a message on the server (refused, failed for good) shows its row
again, so the listing keeps matching the server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from email_service.core.db import session_scope
from email_service.deletion import gmail
from email_service.deletion import pop3 as pop3_deletion
from email_service.deletion import store as store
from email_service.deletion.batches import (
    FolderHandler,
    MailOpsConnector,
    Outcome,
    group_by_folder,
    run_batches,
    unique_ids,
)
from email_service.deletion.store import Owner, Repoint, Target
from email_service.mail.imap.client import connect
from email_service.mail.imap.transfer import MailOps, Refused, expunge_exactly, transfer
from email_service.messages.folders import folder_by_role


def hide_for_request(session: Session, tenant_id: str, user_id: str, ids: Sequence[str]) -> list[str]:
    """Hide at once, in the transaction that records the task; returns the ids hidden by this call."""
    return store.hide(session, tenant_id, user_id, unique_ids(ids))


def undo_hide(session: Session, tenant_id: str, user_id: str, ids: Sequence[str]) -> None:
    """The task could not be queued: show again exactly what this request hid."""
    store.unhide(session, tenant_id, user_id, ids)


def delete_messages(
    email_ids: Sequence[str],
    tenant_id: str,
    user_id: str,
    permanent: bool = False,
    connector: MailOpsConnector = connect,
    final: bool = True,
) -> tuple[Outcome, dict[str, Any]]:
    """Run a delete; returns the outcome (retryable tells the task to try again) and the task result.

    final: no retry follows, so a permanent delete's transient failures are as final as refusals.
    """
    owner = Owner(tenant_id, user_id)
    ids = unique_ids(email_ids)
    outcome = Outcome(ids)
    with session_scope(tenant_id) as session:
        targets = store.load_targets(session, tenant_id, user_id, ids)
        if not permanent:
            store.hide(session, tenant_id, user_id, [t.id for t in targets])
        uidls = store.pop3_uidls(session, owner, [t.id for t in targets])
    pop3 = [t for t in targets if t.id in uidls]  # POP3 accounts: no folders on the server
    if permanent:
        pop3_deletion.delete_on_server(owner, pop3, uidls, outcome)
    else:  # soft delete is local only: hidden here, left on the server
        outcome.succeed(t.id for t in pop3)
    targets_imap = [t for t in targets if t.id not in uidls]
    pending = targets_imap
    if not permanent:  # already in Trash: hidden is all there is to do
        outcome.succeed(t.id for t in targets_imap if t.folder_role == "trash")
        pending = [t for t in targets_imap if t.folder_role != "trash"]
    handler = _expunge_handler(owner) if permanent else _trash_handler(owner)
    run_batches(owner, group_by_folder(pending), handler, outcome, connector)
    if permanent:
        _show_what_stayed(owner, outcome, final)
    result = outcome.as_dict("deleted_count", [t.id for t in targets])
    result["permanent"] = permanent
    return outcome, result


def _show_what_stayed(owner: Owner, outcome: Outcome, final: bool) -> None:
    """Rows of messages still on the server are listed again: refusals at once, the rest when final."""
    stayed = [i for i in outcome.failed if final or i not in outcome.transient]
    if stayed:
        with session_scope(owner.tenant_id) as session:
            store.show_again(session, owner, stayed)


def _trash_handler(owner: Owner) -> FolderHandler:
    def handle(imap: MailOps, targets: list[Target]) -> list[str]:
        """MOVE to the account's Trash, then follow each row to its Trash UID (or purge it if gone)."""
        first = targets[0]
        with session_scope(owner.tenant_id) as session:
            trash = folder_by_role(session, first.account_id, "trash", *owner)
            trash_ref = (trash.id, trash.name) if trash is not None else None
        if trash_ref is None:
            raise Refused("the account has no Trash folder; sync the account first")
        move_rows(owner, imap, targets, trash_ref, restore=False)
        return [t.id for t in targets]

    return handle


def _expunge_handler(owner: Owner) -> FolderHandler:
    def handle(imap: MailOps, targets: list[Target]) -> list[str]:
        """Expunge exactly these UIDs; only then purge (a message already gone counts as done).

        Gmail deletes for good only from Trash: there the messages go through Trash first."""
        first = targets[0]
        if imap.gmail_ext and first.folder_role != "trash":
            return gmail.expunge_via_trash(owner, imap, targets)
        expunge_exactly(imap, first.folder_name, first.uidvalidity, [t.uid for t in targets])
        ids = [t.id for t in targets]
        with session_scope(owner.tenant_id) as session:
            store.purge(session, owner, ids)
        return ids

    return handle


def move_rows(
    owner: Owner, imap: MailOps, targets: list[Target], dest: tuple[str, str], restore: bool
) -> list[str]:
    """Move one folder's targets to dest (folder id, name) and re-point their rows; returns ids gone."""
    first = targets[0]
    dest_id, dest_name = dest
    headers = {t.uid: t.message_id_header for t in targets}
    moved = transfer(imap, first.folder_name, first.uidvalidity, [t.uid for t in targets], dest_name, headers)
    moves = [
        Repoint(t.id, dest_id, moved.uidvalidity, moved.uids[t.uid]) for t in targets if t.uid in moved.uids
    ]
    gone = [t.id for t in targets if t.uid not in moved.uids]
    with session_scope(owner.tenant_id) as session:
        store.repoint(session, owner, first.account_id, moves, restore)
        store.purge(session, owner, gone)
    return gone
