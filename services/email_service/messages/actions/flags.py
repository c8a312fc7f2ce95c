"""Flags and keywords: changed on the rows at once, then STOREd by a task (naturally idempotent).

A request records, per message, the flags it actually changed; a failed STORE takes back exactly those
(what was already so before the request stays), and the sync keeps local flags while a row is pending.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from email_service.core.db import session_scope
from email_service.core.errors import NotFound, ValidationFailed
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
from email_service.deletion.store import Owner, Target
from email_service.events.log import append_per_account
from email_service.events.model import MESSAGE_UPDATED
from email_service.mail.imap.client import connect
from email_service.mail.imap.transfer import MailOps, select_for_write
from email_service.messages.actions import log
from email_service.messages.actions.model import FLAGS, PENDING
from email_service.messages.actions.runner import batch_status, finish_untouched, settle
from email_service.messages.folder_model import Folder
from email_service.messages.model import Message
from email_service.sync.rows import flag_columns

SYSTEM_FLAGS = {"\\seen": "\\Seen", "\\flagged": "\\Flagged", "\\answered": "\\Answered"}
KEYWORD = re.compile(r"^[^\s(){%*\"\\\]\x00-\x1f\x7f]{1,64}$")
MAX_FLAGS = 20


def normalize(flags: Sequence[str], field: str) -> list[str]:
    """\\Seen, \\Flagged, \\Answered (any case) or IMAP keywords (atoms, no backslash); else 422."""
    out: list[str] = []
    for index, flag in enumerate(flags):
        canonical = SYSTEM_FLAGS.get(flag.lower()) if flag.startswith("\\") else flag
        if canonical is None or not (canonical.startswith("\\") or KEYWORD.match(canonical)):
            raise ValidationFailed(
                f"{field}: not a supported flag or keyword: {flag[:70]!r}",
                {"fields": [{"field": f"{field}.{index}", "message": "unsupported flag or keyword"}]},
            )
        if canonical not in out:
            out.append(canonical)
    return out


def flag_change(add: Sequence[str], remove: Sequence[str]) -> tuple[list[str], list[str]]:
    adds, removes = normalize(add, "add"), normalize(remove, "remove")
    both = {f.lower() for f in adds} & {f.lower() for f in removes}
    if both:
        raise ValidationFailed("a flag cannot be both added and removed", {"fields": [{"field": "remove"}]})
    if not adds and not removes:
        raise ValidationFailed("nothing to change", {"fields": [{"field": "add"}]})
    return adds, removes


def patch_change(
    is_read: bool | None, is_flagged: bool | None, add_keywords: Sequence[str], remove_keywords: Sequence[str]
) -> tuple[list[str], list[str]]:
    """PATCH /messages/<id>'s fields as one add/remove pair."""
    add = [k for k in add_keywords]
    remove = [k for k in remove_keywords]
    for flag, value in (("\\Seen", is_read), ("\\Flagged", is_flagged)):
        if value is not None:
            (add if value else remove).append(flag)
    for index, keyword in enumerate([*add_keywords, *remove_keywords]):
        if keyword.startswith("\\"):
            raise ValidationFailed(
                "keywords cannot start with a backslash", {"fields": [{"field": str(index)}]}
            )
    return flag_change(add, remove)


@dataclass(frozen=True)
class Applied:
    """What a request changed on one row: flags added and removed (only those not already so)."""

    message_id: str
    added: list[str]
    removed: list[str]


def live_messages(session: Session, owner: Owner, ids: Sequence[str]) -> list[Message]:
    """The caller's live messages, all of them, or 404 naming the first id that is not."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, Message] = {}
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        query = select(Message).where(
            Message.tenant_id == owner.tenant_id,
            Message.user_id == owner.user_id,
            Message.id.in_(chunk),
            Message.deleted_at.is_(None),
        )
        found.update((m.id, m) for m in session.scalars(query))
    for message_id in wanted:
        if message_id not in found:
            raise NotFound("Message not found", {"id": message_id})
    return [found[i] for i in wanted]


def _change_row(message: Message, add: Sequence[str], remove: Sequence[str]) -> tuple[list[str], list[str]]:
    """Apply add/remove to the row; returns (added, removed): what really changed, case-insensitively."""
    current = list(message.flags or [])
    lowered = {f.lower() for f in current}
    added = [f for f in add if f.lower() not in lowered]
    gone = {f.lower() for f in remove}
    removed = [f for f in current if f.lower() in gone]
    new = [f for f in current if f.lower() not in gone] + added
    for key, value in flag_columns(new).items():
        setattr(message, key, value)
    return added, removed


def revert_rows(session: Session, owner: Owner, changes: Sequence[tuple[str, list[str], list[str]]]) -> None:
    """Take back (message id, added, removed) from each row; rows gone meanwhile are skipped."""
    ids = [c[0] for c in changes]
    rows = {
        m.id: m
        for m in session.scalars(
            select(Message).where(deletion_store.owned_by(Message, owner), Message.id.in_(ids))
        )
    }
    for message_id, added, removed in changes:
        row = rows.get(message_id)
        if row is not None:
            _change_row(row, removed, added)
    session.flush()
    deletion_store.refresh_counts(session, owner, {r.folder_id for r in rows.values()})


def apply_locally(
    session: Session,
    owner: Owner,
    batch_id: str,
    ids: Sequence[str],
    add: Sequence[str],
    remove: Sequence[str],
) -> list[Applied]:
    """The request's transaction: rows changed and one pending action row each."""
    applied: list[Applied] = []
    messages = live_messages(session, owner, ids)
    for message in messages:
        added, removed = _change_row(message, add, remove)
        log.add(
            session,
            owner,
            batch_id,
            FLAGS,
            message.account_id,
            message_id=message.id,
            folder_id=message.folder_id,
            uidvalidity=message.uidvalidity,
            uid=message.uid,
            data={"added": added, "removed": removed, "add": list(add), "remove": list(remove)},
        )
        applied.append(Applied(message.id, added, removed))
    session.flush()
    deletion_store.refresh_counts(session, owner, {m.folder_id for m in messages})
    who = (owner.tenant_id, owner.user_id)
    append_per_account(session, who, MESSAGE_UPDATED, ((m.account_id, m.id) for m in messages))
    return applied


def request_flags(
    caller: Identity, email_ids: Sequence[str], add: Sequence[str], remove: Sequence[str]
) -> str:
    """Rows show the new flags at once; the task STOREs them. Returns the task id."""
    owner = Owner(caller.tenant_id, caller.user_id)
    batch_id = new_id()

    def undo(session: Session, applied: list[Applied]) -> None:
        revert_rows(session, owner, [(a.message_id, a.added, a.removed) for a in applied])
        log.drop_batch(session, owner, batch_id)

    return start_task(
        caller,
        "apply_flags",
        {"batch_id": batch_id},
        prepare=lambda session: apply_locally(session, owner, batch_id, email_ids, add, remove),
        undo=undo,
    )


def _targets(session: Session, owner: Owner, actions: Sequence[log.Action]) -> list[Target]:
    """Where each pending message is on the server now: its row's coordinates, or the action's while
    a move of it is pending (a placeholder row)."""
    ids = [a.message_id for a in actions if a.message_id]
    rows = {
        m.id: m
        for m in session.scalars(
            select(Message).where(deletion_store.owned_by(Message, owner), Message.id.in_(ids))
        )
    }
    names = {
        f.id: (f.name, f.role)
        for f in session.scalars(select(Folder).where(deletion_store.owned_by(Folder, owner)))
    }
    out: list[Target] = []
    for action in actions:
        row = rows.get(action.message_id or "")
        if row is None:
            continue
        folder_id, validity, uid = row.folder_id, row.uidvalidity, row.uid
        if validity <= 0 and action.folder_id and action.uidvalidity is not None and action.uid is not None:
            folder_id, validity, uid = action.folder_id, action.uidvalidity, action.uid
        if folder_id not in names:
            continue
        name, role = names[folder_id]
        out.append(
            Target(
                row.id,
                row.account_id,
                folder_id,
                name,
                role,
                validity,
                uid,
                row.message_id_header,
                None,
                False,
            )
        )
    return out


def run_flags(
    batch_id: str,
    tenant_id: str,
    user_id: str,
    final: bool = True,
    connector: MailOpsConnector = connect,
) -> tuple[Outcome, dict[str, Any]]:
    """The task: STORE +FLAGS / -FLAGS per folder; a row whose message is gone counts as done."""
    owner = Owner(tenant_id, user_id)
    with session_scope(tenant_id) as session:
        actions = [a for a in log.batch(session, owner, batch_id, count_attempt=True) if a.state == PENDING]
        targets = _targets(session, owner, actions)
        local = _local_flags(session, owner, [t.id for t in targets])
    by_message = {a.message_id: a for a in actions}
    touched = [*actions[0].data.get("add", []), *actions[0].data.get("remove", [])] if actions else []
    outcome = Outcome([t.id for t in targets])
    run_batches(owner, group_by_folder(targets), _store_handler(touched, local), outcome, connector)
    settle(owner, outcome, by_message, final, _revert_flags)
    actions = finish_untouched(owner, batch_id, outcome)
    return outcome, {"status": batch_status(actions), "action": "flags", **log.summary(actions)}


def _local_flags(session: Session, owner: Owner, ids: Sequence[str]) -> dict[str, set[str]]:
    query = select(Message.id, Message.flags).where(
        deletion_store.owned_by(Message, owner), Message.id.in_(ids)
    )
    return {i: {f.lower() for f in flags or []} for i, flags in session.execute(query)}


def _store_handler(touched: list[str], local: dict[str, set[str]]) -> FolderHandler:
    """For each flag the request touched, the row's state now is what the server gets: two requests whose
    tasks run out of order still leave the server as the later request left the row."""

    def handle(imap: MailOps, targets: list[Target]) -> list[str]:
        first = targets[0]
        select_for_write(imap, first.folder_name, first.uidvalidity)
        groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[int]] = {}
        for target in targets:
            now = local.get(target.id, set())
            add = tuple(f for f in touched if f.lower() in now)
            remove = tuple(f for f in touched if f.lower() not in now)
            groups.setdefault((add, remove), []).append(target.uid)
        for (add, remove), uids in groups.items():
            if add:
                imap.add_flags(uids, add)
            if remove:
                imap.remove_flags(uids, remove)
        return [t.id for t in targets]

    return handle


def _revert_flags(session: Session, owner: Owner, actions: Sequence[log.Action]) -> None:
    revert_rows(
        session,
        owner,
        [
            (a.message_id or "", list(a.data.get("added", [])), list(a.data.get("removed", [])))
            for a in actions
        ],
    )
