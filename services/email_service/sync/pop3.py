"""The POP3 sync strategy: INBOX only, new mail by UIDL difference.

- One folder row (INBOX, role inbox, a fixed uidvalidity); each message row carries its server UIDL
  (messages.pop3_uidl, unique per account) and a local sequence number as its uid.
- New mail = UIDLs listed by the server and not stored yet. Only those are RETRieved, in batches that
  are committed one by one; a cut mid-RETR keeps the committed rows (and the messages of the batch
  already read), the next sync fetches the rest. The unique UIDL makes a duplicate impossible.
- A UIDL that vanished from the server (another client deleted it) stays in the mirror: POP3 users
  often delete on the server on purpose and keep the local copy.
- POP3_DELETE_AFTER_DAYS > 0: messages stored more than that many days ago are DELEd (kept locally).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from email_service.core.db import session_scope
from email_service.mail.imap.types import FetchedMessage, SelectInfo
from email_service.mail.pop3.client import Pop3Session
from email_service.mail.pop3.types import Pop3ConnectionError, Pop3Settings
from email_service.messages.folder_model import Folder
from email_service.messages.model import Message
from email_service.sync import store
from email_service.sync.rows import RowContext, build_rows

log = logging.getLogger(__name__)
POP3_FOLDER = "INBOX"
POP3_UIDVALIDITY = 1  # UIDLs are stable by definition; the local uid sequence never restarts


def inbox_folder(tenant_id: str, user_id: str, account_id: str) -> tuple[str, int]:
    """(folder id, highest local uid) of the account's one folder, created on the first sync."""
    with session_scope(tenant_id) as session:
        folder = session.scalars(
            select(Folder).where(
                Folder.tenant_id == tenant_id,
                Folder.user_id == user_id,
                Folder.account_id == account_id,
                Folder.name == POP3_FOLDER,
            )
        ).first()
        if folder is None:
            folder = Folder(
                tenant_id=tenant_id,
                user_id=user_id,
                account_id=account_id,
                name=POP3_FOLDER,
                delimiter=None,
                role="inbox",
                is_selectable=True,
                uidvalidity=POP3_UIDVALIDITY,
                synced_uid=0,
            )
            session.add(folder)
            session.flush()
        return folder.id, int(folder.synced_uid or 0)


def stored_uidls(tenant_id: str, user_id: str, account_id: str, since: datetime | None = None) -> set[str]:
    """The UIDLs the mirror holds for the account (created before `since` when given)."""
    query = select(Message.pop3_uidl).where(
        Message.tenant_id == tenant_id,
        Message.user_id == user_id,
        Message.account_id == account_id,
        Message.pop3_uidl.is_not(None),
    )
    if since is not None:
        query = query.where(Message.created_at < since)
    with session_scope(tenant_id) as session:
        return {str(u) for u in session.scalars(query)}


def sync_pop3(
    settings: Pop3Settings,
    owner: tuple[str, str, str],
    batch_size: int,
    delete_after_days: int,
    report: Callable[[str, int, int], None],
    cancelled: Callable[[], bool] | None,
) -> dict[str, Any]:
    """Fetch what is new; returns counts {synced, deleted_on_server, status} for the sync result."""
    tenant_id, user_id, account_id = owner
    folder_id, last_uid = inbox_folder(tenant_id, user_id, account_id)
    ctx = RowContext(tenant_id, user_id, account_id, folder_id, POP3_UIDVALIDITY)
    synced, new_mail, status = 0, 0, "success"
    with Pop3Session(settings) as pop:
        server = pop.uidl()
        known = stored_uidls(tenant_id, user_id, account_id)
        new = [u for u, _n in sorted(server.items(), key=lambda item: item[1]) if u not in known]
        for start in range(0, len(new), batch_size):
            if cancelled is not None and cancelled():
                status = "revoked"
                break
            report(POP3_FOLDER, start, len(new))
            last_uid, stored = _fetch_batch(pop, ctx, new[start : start + batch_size], last_uid)
            synced += len(stored.ids)
            new_mail += stored.new_mail
        deleted = 0
        if delete_after_days > 0 and status == "success":
            since = datetime.now(UTC) - timedelta(days=delete_after_days)
            for uidl in sorted(stored_uidls(tenant_id, user_id, account_id, since) & set(server)):
                deleted += int(pop.dele(uidl))
        with session_scope(tenant_id) as session:
            total, unread = _counts(session, owner, folder_id)
            info = SelectInfo(POP3_UIDVALIDITY, last_uid + 1, None, len(server) - deleted)
            store.finish_folder(session, folder_id, info, (total, unread), datetime.now(UTC))
        report(POP3_FOLDER, len(new), len(new))
    return {"synced": synced, "new": new_mail, "deleted_on_server": deleted, "status": status}


def _fetch_batch(
    pop: Pop3Session, ctx: RowContext, uidls: Sequence[str], last_uid: int
) -> tuple[int, store.StoredBatch]:
    """RETR a batch and commit it; on a cut, commit what was read and re-raise. (new last uid, stored)"""
    fetched: list[tuple[str, FetchedMessage]] = []
    now = datetime.now(UTC)
    try:
        for uidl in uidls:
            raw = pop.retr(uidl)
            if raw is None:  # deleted by another client since the listing
                continue
            last_uid += 1
            fetched.append((uidl, FetchedMessage(last_uid, (), None, now, len(raw), raw)))
    except Pop3ConnectionError:
        _commit(ctx, fetched)
        raise
    return last_uid, _commit(ctx, fetched)


def _commit(ctx: RowContext, fetched: list[tuple[str, FetchedMessage]]) -> store.StoredBatch:
    if not fetched:
        return store.StoredBatch(set())
    with session_scope(ctx.tenant_id) as session:
        ctx = RowContext(
            ctx.tenant_id,
            ctx.user_id,
            ctx.account_id,
            ctx.folder_id,
            ctx.uidvalidity,
            store.wants_json_text(session),
        )
        built = build_rows(ctx, [message for _uidl, message in fetched])
        for row, (uidl, _message) in zip(built.messages, fetched, strict=True):
            row["pop3_uidl"] = uidl
        return store.insert_batch_ids(session, ctx.folder_id, built)


def _counts(session: Any, owner: tuple[str, str, str], folder_id: str) -> tuple[int, int]:
    tenant_id, user_id, account_id = owner
    base = select(func.count()).where(
        Message.tenant_id == tenant_id,
        Message.user_id == user_id,
        Message.account_id == account_id,
        Message.folder_id == folder_id,
        Message.deleted_at.is_(None),
    )
    total = int(session.execute(base).scalar_one())
    unread = int(session.execute(base.where(Message.is_read.is_(False))).scalar_one())
    return total, unread
