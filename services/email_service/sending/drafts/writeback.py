"""The draft write-back: one action-log row per save or delete (kinds draft_save / draft_delete), then
the task makes the server's Drafts folder hold exactly the draft's current version (or nothing).

The task always converges on the draft's state *now*, not the state its request saw: tasks that run
late, twice, or out of order all leave one copy of the latest version. A per-draft lock keeps an
APPEND and a removal of the same draft from interleaving. The action row's message_id is the draft id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from email_service.accounts.mail_settings import imap_settings
from email_service.accounts.oauth.refresh import ensure_fresh_token
from email_service.accounts.service import load_account_for_task
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.tenancy.scoping import scoped
from email_service.deletion import store as deletion_store
from email_service.deletion.batches import Outcome
from email_service.deletion.store import Owner
from email_service.mail.imap.client import (
    ImapConnector,
    connect,
)
from email_service.mail.imap.drafts import Placed, Version, drafts_folder, place_draft
from email_service.messages.actions import log
from email_service.messages.actions.model import PENDING
from email_service.messages.actions.runner import WRITE_BACK_FAILURES, batch_status, failure_reason
from email_service.messages.folder_model import Folder
from email_service.messages.folders import folder_by_role
from email_service.messages.model import Message
from email_service.sending.account_lock import draft_lock
from email_service.sending.drafts.compose import draft_version
from email_service.sending.drafts.model import DRAFT, Draft
from email_service.sending.drafts.store import family

DRAFT_SAVE, DRAFT_DELETE = "draft_save", "draft_delete"
LOCK_WAIT_SECONDS = 10.0


def log_action(session: Session, draft: Draft, batch_id: str, kind: str) -> None:
    """A pending row naming the draft and where its last confirmed copy is on the server."""
    owner = Owner(draft.tenant_id, draft.user_id)
    folder = folder_by_role(session, draft.account_id, "drafts", *owner)
    log.add(
        session,
        owner,
        batch_id,
        kind,
        draft.account_id,
        message_id=draft.id,
        folder_id=folder.id if folder else None,
        uidvalidity=draft.server_uidvalidity,
        uid=draft.server_uid,
        data={"version": draft.version},
    )


@dataclass(frozen=True)
class _Plan:
    """What the task read before going to the server."""

    settings: Any
    folder: str | None
    version: Version | None
    number: int | None
    previous: list[tuple[int, int]]


def run_draft_action(
    batch_id: str, tenant_id: str, user_id: str, final: bool = True, connector: ImapConnector = connect
) -> tuple[Outcome, dict[str, Any]]:
    """The task body: reconcile the draft's server copy; a transient failure leaves the row pending."""
    owner = Owner(tenant_id, user_id)
    with session_scope(tenant_id) as session:
        actions = [a for a in log.batch(session, owner, batch_id, count_attempt=True) if a.state == PENDING]
    outcome = Outcome([a.message_id or "" for a in actions])
    if actions:
        action = actions[0]
        draft_id = action.message_id or ""
        with draft_lock(draft_id) as lock:
            if lock.acquire(timeout=LOCK_WAIT_SECONDS):
                reason, retryable = _reconcile(owner, action, connector)
            else:
                reason, retryable = "another write-back of this draft is still running", True
        with session_scope(tenant_id) as session:
            if reason is None:
                log.finish(session, owner, [a.id for a in actions])
                outcome.succeed([draft_id])
            else:
                outcome.fail([draft_id], reason, retryable)
                if final or not retryable:
                    log.finish(session, owner, [a.id for a in actions], reason=reason)
    with session_scope(tenant_id) as session:
        everything = log.batch(session, owner, batch_id)
    first = next(iter(everything), None)
    result = {
        "status": batch_status(everything),
        "action": first.kind if first else None,
        "draft_id": first.message_id if first else None,
        **log.summary(everything),
    }
    return outcome, result


def _reconcile(owner: Owner, action: log.Action, connector: ImapConnector) -> tuple[str | None, bool]:
    """(None, _) when the server holds what the draft is now, else (reason, retryable)."""
    draft_id = action.message_id or ""
    try:
        plan = _plan(owner, action)
        if plan.settings is None:  # a POP3 account: the draft lives here only (no IMAP Drafts folder)
            return None, False
        with connector(plan.settings) as imap:
            name = drafts_folder(imap, plan.folder)
            placed = place_draft(imap, name, family(draft_id), plan.version, plan.previous)
        _record(owner, action, draft_id, plan, placed)
    except WRITE_BACK_FAILURES as exc:
        return failure_reason(exc)
    return None, False


def _plan(owner: Owner, action: log.Action) -> _Plan:
    ensure_fresh_token(owner.tenant_id, owner.user_id, action.account_id)  # OAuth2, outside the txn
    with session_scope(owner.tenant_id) as session:
        account = load_account_for_task(session, action.account_id, *owner)
        settings = None if account.protocol == "pop3" else imap_settings(account, get_secret_box())
        folder = folder_by_role(session, account.id, "drafts", *owner)
        draft = _draft(session, owner, action.message_id or "")
        live = draft is not None and draft.status == DRAFT
        version = draft_version(session, draft, account) if draft is not None and live else None
        previous = [(action.uidvalidity, action.uid)] if action.uidvalidity and action.uid else []
        if draft is not None and draft.server_uidvalidity and draft.server_uid:
            previous.append((draft.server_uidvalidity, draft.server_uid))
        number = draft.version if draft is not None and live else None
        return _Plan(settings, folder.name if folder else None, version, number, previous)


def _draft(session: Session, owner: Owner, draft_id: str) -> Draft | None:
    query = scoped(Draft, owner.tenant_id, owner.user_id).where(Draft.id == draft_id)
    found: Draft | None = session.scalars(query).first()
    return found


def _record(owner: Owner, action: log.Action, draft_id: str, plan: _Plan, placed: Placed) -> None:
    """Where the version now is, and the mirror rows of the versions taken away (the next sync would
    drop them too; this keeps the Drafts folder listing right meanwhile)."""
    with session_scope(owner.tenant_id) as session:
        if plan.number is not None:  # only if no newer version was saved meanwhile
            where = Draft.version == plan.number
            values = {"server_version": plan.number, "server_uid": placed.uid}
        else:
            where, values = Draft.status != DRAFT, {"server_uid": None}
        # updated_at is the user's last save (listing order): a server confirmation leaves it alone.
        session.execute(
            update(Draft)
            .where(deletion_store.owned_by(Draft, owner), Draft.id == draft_id, where)
            .values(server_uidvalidity=placed.uidvalidity, updated_at=Draft.updated_at, **values)
            .execution_options(synchronize_session=False)
        )
        if placed.removed:
            folder = select(Folder.id).where(
                deletion_store.owned_by(Folder, owner),
                Folder.account_id == action.account_id,
                Folder.name == placed.folder,
            )
            stale = select(Message.id).where(
                deletion_store.owned_by(Message, owner),
                Message.folder_id.in_(folder.scalar_subquery()),
                Message.uidvalidity == placed.uidvalidity,
                Message.uid.in_(placed.removed),
            )
            deletion_store.purge(session, owner, list(session.scalars(stale)))
