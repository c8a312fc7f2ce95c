"""What the write-back routes do: each request changes rows and logs actions in one transaction, then
its task is published (core/tasking/start.py); when the queue is down both are undone (503)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from email_service.accounts.mail_settings import POP3_NO_IMAP
from email_service.accounts.model import EmailAccount
from email_service.core.db import session_scope
from email_service.core.errors import Conflict
from email_service.core.tenancy.tokens import Identity
from email_service.messages import use_cases as read
from email_service.messages.actions import flags, folders, move
from email_service.messages.model import Message


def refuse_pop3(caller: Identity, email_ids: Sequence[str] = (), account_id: str | None = None) -> None:
    """409 when the messages or the account are POP3's: flags, moves and folders write back over IMAP."""
    owned = (EmailAccount.tenant_id == caller.tenant_id, EmailAccount.user_id == caller.user_id)
    pop3 = EmailAccount.protocol == "pop3"
    with session_scope(caller.tenant_id) as session:
        found = None
        if account_id is not None:
            found = session.scalars(
                select(EmailAccount.id).where(*owned, pop3, EmailAccount.id == account_id)
            ).first()
        ids = list(email_ids)[:10000]
        if found is None and ids:
            query = (
                select(Message.id)
                .join(EmailAccount, EmailAccount.id == Message.account_id)
                .where(*owned, pop3, Message.tenant_id == caller.tenant_id, Message.user_id == caller.user_id)
                .where(Message.id.in_(ids))
            )
            found = session.scalars(query.limit(1)).first()
    if found is not None:
        raise Conflict(POP3_NO_IMAP, {"protocol": "pop3"})


def patch_message(
    caller: Identity,
    message_id: str,
    is_read: bool | None,
    is_flagged: bool | None,
    add_keywords: Sequence[str],
    remove_keywords: Sequence[str],
) -> dict[str, Any]:
    """The message view with the new flags, plus the write-back's taskId."""
    read.message_view(caller, message_id)  # someone else's or unknown: 404 before any 422
    refuse_pop3(caller, [message_id])
    add, remove = flags.patch_change(is_read, is_flagged, add_keywords, remove_keywords)
    task_id = flags.request_flags(caller, [message_id], add, remove)
    return {**read.message_view(caller, message_id), "taskId": task_id}


def change_flags(
    caller: Identity, email_ids: Sequence[str], add: Sequence[str], remove: Sequence[str]
) -> str:
    adds, removes = flags.flag_change(add, remove)
    refuse_pop3(caller, email_ids)
    return flags.request_flags(caller, email_ids, adds, removes)


def move_messages(caller: Identity, email_ids: Sequence[str], folder_id: str) -> str:
    refuse_pop3(caller, email_ids)
    return move.request_move(caller, email_ids, folder_id)


def create_folder(caller: Identity, account_id: str, name: str, parent_id: str | None) -> tuple[str, str]:
    refuse_pop3(caller, account_id=account_id)
    return folders.request_create(caller, account_id, name, parent_id)


def rename_folder(caller: Identity, account_id: str, folder_id: str, name: str) -> str:
    refuse_pop3(caller, account_id=account_id)
    return folders.request_rename(caller, account_id, folder_id, name)


def delete_folder(caller: Identity, account_id: str, folder_id: str) -> str:
    refuse_pop3(caller, account_id=account_id)
    return folders.request_delete(caller, account_id, folder_id)
