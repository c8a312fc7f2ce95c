"""The hot read paths of the messages API in one database round trip each (issue 21).

A message view and a plain listing page were five round trips through a Session (BEGIN, the RLS
set_config, the ownership lookup, the rows, COMMIT) plus ORM loading and per-request statement
building: most of their server CPU. Here each is a fixed set of module-level statements (one per
listing shape, built once) sent with fetch_all_scoped: the RLS scope and every SELECT in one query,
plain rows, no Session. The answers are those of service.get_message / service.list_messages; a
listing with text search, a sender filter or a label filter still goes through the service (its probe
needs a query of its own first; labels need the dialect's JSON containment).
"""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, select, tuple_

from email_service.accounts.model import EmailAccount
from email_service.core.db import AnySelect, fetch_all_scoped
from email_service.core.errors import BadRequest, NotFound
from email_service.core.model_base import UtcDateTime
from email_service.core.tenancy.scoping import owned_row_query
from email_service.messages import service
from email_service.messages.attachment_model import Attachment
from email_service.messages.folder_model import Folder
from email_service.messages.model import Message
from email_service.messages.service import MAX_LIMIT, SUMMARY_COLUMNS, Cursor, MessageFilter, MessagePage

DETAIL_COLUMNS = (
    *SUMMARY_COLUMNS,
    Message.deleted_at,
    Message.headers,
    Message.cc_addresses,
    Message.reply_to,
    Message.body_text,
    Message.body_html,
    Message.raw_size,
    Message.spam_indicators,
    Message.spam_checked_at,
    Message.parse_error,
)
ATTACHMENT_COLUMNS = (
    Attachment.id,
    Attachment.filename,
    Attachment.content_type,
    Attachment.size,
    Attachment.is_inline,
    Attachment.content_id,
)
SUMMARY_KEYS = tuple(c.key for c in SUMMARY_COLUMNS)
DETAIL_KEYS = tuple(c.key for c in DETAIL_COLUMNS)
ATTACHMENT_KEYS = tuple(c.key for c in ATTACHMENT_COLUMNS)


def _row(keys: tuple[str, ...], values: tuple[Any, ...]) -> SimpleNamespace:
    """A row with the attributes message_summary and attachment_summary read."""
    return SimpleNamespace(**dict(zip(keys, values, strict=True)))


_MESSAGE = owned_row_query(Message, *DETAIL_COLUMNS, id_param="message_id")
_ATTACHMENTS = (
    select(*ATTACHMENT_COLUMNS)
    .where(
        Attachment.message_id == bindparam("message_id"),
        Attachment.tenant_id == bindparam("tenant_id"),
        Attachment.user_id == bindparam("user_id"),
    )
    .order_by(Attachment.created_at, Attachment.id)
)
_ACCOUNT = owned_row_query(EmailAccount, EmailAccount.id, id_param="account_id")
_FOLDER = owned_row_query(Folder, Folder.account_id, id_param="folder_id")


def message_view(tenant_id: str, user_id: str, message_id: str) -> dict[str, Any]:
    """service.get_message in one round trip: the row and its attachments' summaries together."""
    params = {"message_id": message_id, "tenant_id": tenant_id, "user_id": user_id}
    found, attachments = fetch_all_scoped(tenant_id, [(_MESSAGE, params), (_ATTACHMENTS, params)])
    if not found or found[0][len(SUMMARY_COLUMNS)] is not None:  # missing, foreign or soft-deleted
        raise NotFound("Message not found", {"id": message_id})
    message = _row(DETAIL_KEYS, found[0])
    return service.message_detail(message, [_row(ATTACHMENT_KEYS, a) for a in attachments])


def is_plain(filters: MessageFilter) -> bool:
    """A listing this module serves: no text search, no sender pattern and no label (Gmail's)."""
    return (
        filters.sender is None and filters.text is None and filters.search.is_empty and filters.label is None
    )


@lru_cache(maxsize=64)
def _listing(account: bool, folder: bool, unread: bool, flagged: bool, cursor: bool) -> AnySelect:
    """service.listing_query for one shape of filters, every value a bind parameter (compiled once)."""
    query: Any = select(*SUMMARY_COLUMNS).where(
        Message.tenant_id == bindparam("tenant_id"),
        Message.user_id == bindparam("user_id"),
        Message.deleted_at.is_(None),
    )
    if account:
        query = query.where(Message.account_id == bindparam("account_id"))
    if folder:
        query = query.where(Message.folder_id == bindparam("folder_id"))
    if unread:
        query = query.where(Message.is_read == bindparam("is_read"))
    if flagged:
        query = query.where(Message.is_flagged == bindparam("is_flagged"))
    if cursor:
        after = tuple_(bindparam("cursor_date", type_=UtcDateTime()), bindparam("cursor_id"))
        query = query.where(tuple_(Message.date_sort, Message.id) < after)
    order = (Message.date_sort.desc(), Message.id.desc())
    return query.order_by(*order).limit(bindparam("row_limit"))


def message_page(
    tenant_id: str, user_id: str, filters: MessageFilter, cursor: Cursor | None, limit: int
) -> MessagePage:
    """service.list_messages of a plain listing in one round trip, ownership checks included."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer between 1 and {MAX_LIMIT}", {"field": "limit"})
    params: dict[str, Any] = {"tenant_id": tenant_id, "user_id": user_id, "row_limit": limit + 1}
    params.update(account_id=filters.account_id, folder_id=filters.folder_id)
    if filters.unread is not None:
        params["is_read"] = not filters.unread
    if filters.flagged is not None:
        params["is_flagged"] = filters.flagged
    if cursor is not None:
        params.update(cursor_date=cursor.date_sort, cursor_id=cursor.id)
    shape = (
        filters.account_id is not None,
        filters.folder_id is not None,
        filters.unread is not None,
        filters.flagged is not None,
        cursor is not None,
    )
    queries = [(_listing(*shape), params)]
    if filters.account_id is not None:
        queries.append((_ACCOUNT, params))
    if filters.folder_id is not None:
        queries.append((_FOLDER, params))
    rows, *checks = fetch_all_scoped(tenant_id, queries)
    if filters.account_id is not None and not checks.pop(0):
        raise NotFound("EmailAccount not found", {"id": filters.account_id})
    if filters.folder_id is not None:
        folder = checks.pop(0)
        if not folder or (filters.account_id is not None and folder[0][0] != filters.account_id):
            raise NotFound("Folder not found", {"id": filters.folder_id})
    page, more = [_row(SUMMARY_KEYS, r) for r in rows[:limit]], len(rows) > limit
    next_cursor = service.encode_cursor(Cursor(page[-1].date_sort, page[-1].id)) if more else None
    return MessagePage([service.message_summary(m) for m in page], next_cursor)
