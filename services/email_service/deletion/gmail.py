"""Permanent delete on Gmail (X-GM-EXT-1): through Trash, then expunged there.

On Gmail, \\Deleted + EXPUNGE in All Mail or a label folder only removes a label (or, depending on
the account's "When a message is marked as deleted" setting, archives it); the message is really
deleted only when it is expunged from Trash. So it is moved to Trash first (Gmail's MOVE drops all
its labels) and then expunged there by its new UID.
"""

from __future__ import annotations

from email_service.core.db import session_scope
from email_service.deletion import store
from email_service.deletion.store import Owner, Target
from email_service.mail.imap.transfer import MailOps, Refused, expunge_exactly, transfer
from email_service.messages.folders import folder_by_role


def expunge_via_trash(owner: Owner, imap: MailOps, targets: list[Target]) -> list[str]:
    """Move one folder's targets to Trash, expunge them there, then purge their rows."""
    first = targets[0]
    with session_scope(owner.tenant_id) as session:
        trash = folder_by_role(session, first.account_id, "trash", *owner)
        trash_name = trash.name if trash is not None else None
    if trash_name is None:
        raise Refused("the account has no Trash folder; sync the account first")
    headers = {t.uid: t.message_id_header for t in targets}
    moved = transfer(
        imap, first.folder_name, first.uidvalidity, [t.uid for t in targets], trash_name, headers
    )
    if moved.uids:
        expunge_exactly(imap, trash_name, moved.uidvalidity, sorted(moved.uids.values()))
    ids = [t.id for t in targets]  # not found in Trash either: already gone from the server
    with session_scope(owner.tenant_id) as session:
        store.purge(session, owner, ids)
    return ids
