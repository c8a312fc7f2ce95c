"""Use case: move INBOX messages judged spam to the account's Junk folder, when the account asks for it.

On Gmail INBOX mail is the All Mail rows labelled \\Inbox; MOVE from All Mail to Spam is Gmail's
"report spam" (the message leaves every label).

Reuses the delete path: group by folder, one IMAP login per account, MOVE (or COPY + \\Deleted +
UID EXPUNGE) with new UIDs, then re-point the rows so the next sync neither duplicates nor resurrects
them. The rows are not hidden while they move, so the account's sync lock is held instead: a sync
running in between would drop the INBOX row and the re-point would find nothing to follow.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_service.accounts.model import EmailAccount
from email_service.core.config import get_settings
from email_service.core.db import session_scope
from email_service.deletion import store as store
from email_service.deletion.batches import (
    FolderHandler,
    GroupKey,
    MailOpsConnector,
    Outcome,
    group_by_folder,
    run_batches,
    unique_ids,
)
from email_service.deletion.service import move_rows
from email_service.deletion.store import Owner, Target
from email_service.mail.imap.client import connect
from email_service.mail.imap.transfer import MailOps, Refused
from email_service.messages.folders import folder_by_role
from email_service.messages.labels import GMAIL_INBOX, label_condition
from email_service.messages.model import Message
from email_service.spam.junk_feedback import ProductMoves
from email_service.sync.lock import AccountLock, redis_client

SYNC_RUNNING = "a sync of the account is running; the move is retried"


def junk_candidates(session: Session, tenant_id: str, user_id: str, spam_ids: Sequence[str]) -> list[Target]:
    """The caller's visible INBOX messages among spam_ids whose account has move_spam_to_junk on."""
    loaded = [
        t for t in store.load_targets(session, tenant_id, user_id, unique_ids(spam_ids)) if not t.hidden
    ]
    gmail_inbox = _labelled_inbox(session, [t.id for t in loaded if t.folder_role == "all"])
    targets = [t for t in loaded if t.folder_role == "inbox" or t.id in gmail_inbox]
    accounts = {t.account_id for t in targets}
    if not accounts:
        return []
    opted = select(EmailAccount.id).where(
        EmailAccount.id.in_(accounts), EmailAccount.move_spam_to_junk.is_(True)
    )
    wanted = set(session.scalars(opted))
    return [t for t in targets if t.account_id in wanted]


def _labelled_inbox(session: Session, ids: Sequence[str]) -> set[str]:
    """Of these All Mail rows (only Gmail keeps rows there), those labelled \\Inbox: INBOX mail."""
    if not ids:
        return set()
    query = select(Message.id).where(Message.id.in_(ids), label_condition(session, GMAIL_INBOX))
    return set(session.scalars(query))


def move_spam_to_junk(
    spam_ids: Sequence[str],
    tenant_id: str,
    user_id: str,
    connector: MailOpsConnector = connect,
    lock_client: redis.Redis | None = None,
) -> Outcome:
    """Move what qualifies; outcome.retryable when a sync held the account or the server was unreachable."""
    with session_scope(tenant_id) as session:
        targets = junk_candidates(session, tenant_id, user_id, spam_ids)
    outcome = Outcome([t.id for t in targets])
    if not targets:
        return outcome
    client = lock_client or redis_client(get_settings().broker_url)
    try:
        handler = _junk_handler(Owner(tenant_id, user_id), ProductMoves(client))
        for account_id, folders in group_by_folder(targets).items():
            _one_account(client, (tenant_id, user_id), {account_id: folders}, handler, outcome, connector)
    finally:
        if lock_client is None:
            client.close()
    return outcome


def _one_account(
    client: redis.Redis,
    owner: tuple[str, str],
    groups: dict[str, dict[GroupKey, list[Target]]],
    handler: FolderHandler,
    outcome: Outcome,
    connector: MailOpsConnector,
) -> None:
    """Under the account's sync lock, or not at all (retryable) while a sync runs."""
    (account_id,) = groups
    with AccountLock(client, account_id, get_settings().sync_lock_ttl_seconds) as held:
        if not held:
            ids = [t.id for targets in groups[account_id].values() for t in targets]
            outcome.fail(ids, SYNC_RUNNING, retryable=True)
            return
        run_batches(owner, groups, handler, outcome, connector)


def _junk_handler(owner: Owner, marks: ProductMoves) -> FolderHandler:
    def handle(imap: MailOps, targets: list[Target]) -> list[str]:
        """Mark as a product move, MOVE to Junk, follow the rows (purged if gone), unmark."""
        account_id = targets[0].account_id
        with session_scope(owner.tenant_id) as session:
            junk = folder_by_role(session, account_id, "junk", *owner)
            junk_ref = (junk.id, junk.name) if junk is not None else None
        if junk_ref is None:
            raise Refused("the account has no Junk folder; sync the account first")
        headers = [t.message_id_header for t in targets]
        marks.mark(account_id, headers)
        move_rows(owner, imap, targets, junk_ref, restore=False)
        marks.unmark(account_id, headers)
        return [t.id for t in targets]

    return handle
