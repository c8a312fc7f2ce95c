"""Reading mirrored mail: keyset-paginated listing, one message in full, attachment bytes."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select, tuple_
from sqlalchemy.orm import Session

from email_service.accounts.model import EmailAccount
from email_service.core.errors import BadRequest, NotFound
from email_service.core.model_base import iso_or_none
from email_service.core.tenancy.scoping import get_owned, scoped
from email_service.messages.attachment_model import Attachment
from email_service.messages.folders import get_folder
from email_service.messages.labels import label_condition
from email_service.messages.model import Message
from email_service.messages.search.filters import apply_search
from email_service.messages.search.query import NO_SEARCH, SearchQuery
from email_service.spam.verdicts import stored_verdict

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_CURSOR_CHARS = 512

# Columns a listing needs: bodies, headers and raw bytes stay in the database.
SUMMARY_COLUMNS = (
    Message.id,
    Message.account_id,
    Message.folder_id,
    Message.subject,
    Message.from_name,
    Message.from_address,
    Message.to_addresses,
    Message.date,
    Message.date_sort,
    Message.snippet,
    Message.flags,
    Message.labels,
    Message.is_read,
    Message.is_flagged,
    Message.is_answered,
    Message.has_attachments,
    Message.thread_id,
    Message.spam_score,
    Message.is_spam,
)


@dataclass(frozen=True)
class MessageFilter:
    """What the caller narrowed the listing to; None means "not filtered"."""

    account_id: str | None = None
    folder_id: str | None = None
    unread: bool | None = None
    flagged: bool | None = None
    sender: str | None = None
    label: str | None = None  # Gmail: messages carrying this label (X-GM-LABELS)
    text: str | None = None  # SEARCH_MODE=substring: q= as a substring of subject, sender or snippet
    search: SearchQuery = NO_SEARCH  # q= parsed (full text and operators)


@dataclass(frozen=True)
class Cursor:
    """Position after the last row served: rows strictly older in (date_sort, id) order come next."""

    date_sort: datetime
    id: str


@dataclass(frozen=True)
class MessagePage:
    items: list[dict[str, Any]]
    next_cursor: str | None


@dataclass(frozen=True)
class AttachmentFile:
    filename: str
    content_type: str
    content: bytes


def encode_cursor(cursor: Cursor) -> str:
    """Opaque to clients so the sort key can change without breaking them."""
    raw = json.dumps([cursor.date_sort.isoformat(), cursor.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(token: str) -> Cursor:
    """Parse a token from encode_cursor; anything else is the client's error (400)."""
    invalid = BadRequest("cursor is invalid", {"field": "cursor"})
    if not token or len(token) > MAX_CURSOR_CHARS:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = json.loads(raw.decode("utf-8"))
        if not isinstance(value, list):
            raise ValueError("not a list")
        date_text, row_id = value
        if not isinstance(date_text, str) or not isinstance(row_id, str) or not row_id:
            raise ValueError("wrong types")
        return Cursor(datetime.fromisoformat(date_text), row_id)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise invalid from None


def escape_like(term: str) -> str:
    """Make user text match literally inside LIKE (backslash is the escape character)."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(term: str) -> str:
    return f"%{escape_like(term)}%"


def owned_scope(
    session: Session, query: Select[Any], filters: MessageFilter, tenant_id: str, user_id: str
) -> Select[Any]:
    """Narrow to an account/folder after proving the caller owns it (someone else's → 404)."""
    if filters.account_id is not None:
        get_owned(session, EmailAccount, filters.account_id, tenant_id, user_id)
        query = query.where(Message.account_id == filters.account_id)
    if filters.folder_id is not None:
        get_folder(session, filters.folder_id, tenant_id, user_id, account_id=filters.account_id)
        query = query.where(Message.folder_id == filters.folder_id)
    return query


def apply_filters(session: Session, query: Select[Any], filters: MessageFilter, user_id: str) -> Select[Any]:
    if filters.unread is not None:
        query = query.where(Message.is_read.is_(not filters.unread))
    if filters.flagged is not None:
        query = query.where(Message.is_flagged.is_(filters.flagged))
    if filters.sender:
        pattern = _contains(filters.sender)
        query = query.where(
            or_(
                Message.from_address.ilike(pattern, escape="\\"),
                Message.from_name.ilike(pattern, escape="\\"),
            )
        )
    if filters.label:
        query = query.where(label_condition(session, filters.label))
    if filters.text:
        pattern = _contains(filters.text)
        columns = (Message.subject, Message.from_name, Message.from_address, Message.snippet)
        query = query.where(or_(*(column.ilike(pattern, escape="\\") for column in columns)))
    if not filters.search.is_empty:
        query = apply_search(session, query, filters.search, user_id)
    return query


def listing_query(
    session: Session,
    tenant_id: str,
    user_id: str,
    filters: MessageFilter,
    cursor: Cursor | None,
    limit: int,
) -> Select[Any]:
    """Newest first by (date_sort, id): the id breaks ties so equal dates page stably."""
    # Plain rows of the summary columns: building 200 ORM objects per page cost more than the query.
    query: Any = select(*SUMMARY_COLUMNS).where(
        Message.tenant_id == tenant_id, Message.user_id == user_id, Message.deleted_at.is_(None)
    )
    query = apply_filters(session, owned_scope(session, query, filters, tenant_id, user_id), filters, user_id)
    if cursor is not None:
        query = query.where(tuple_(Message.date_sort, Message.id) < tuple_(cursor.date_sort, cursor.id))
    order = (Message.date_sort.desc(), Message.id.desc())
    return query.order_by(*order).limit(limit + 1)


def list_messages(
    session: Session,
    tenant_id: str,
    user_id: str,
    filters: MessageFilter,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> MessagePage:
    """One page of the caller's live messages, and the cursor for the next (None at the end)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer between 1 and {MAX_LIMIT}", {"field": "limit"})
    position = decode_cursor(cursor) if cursor is not None else None
    rows = list(session.execute(listing_query(session, tenant_id, user_id, filters, position, limit)))
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(Cursor(page[-1].date_sort, page[-1].id)) if more else None
    return MessagePage([message_summary(m) for m in page], next_cursor)


# A listing row names the first recipients only (the detail view has every stored one): with stored
# fields bounded (sync/rows.py) a row stays under ~20 KB however hostile the headers.
LISTING_MAX_TO = 10


def message_summary(message: Any, max_to: int | None = LISTING_MAX_TO) -> dict[str, Any]:
    """The listing row (from a Message or a row of SUMMARY_COLUMNS): a mailbox line without the body."""
    to = list(message.to_addresses or [])
    return {
        "id": message.id,
        "account_id": message.account_id,
        "folder_id": message.folder_id,
        "subject": message.subject,
        "from": {"name": message.from_name, "email": message.from_address},
        "to": to if max_to is None else to[:max_to],
        "date": iso_or_none(message.date or message.date_sort),
        "snippet": message.snippet,
        "flags": list(message.flags or []),
        "labels": list(message.labels or []),
        "is_read": message.is_read,
        "is_flagged": message.is_flagged,
        "is_answered": message.is_answered,
        "has_attachments": message.has_attachments,
        "thread_id": message.thread_id,
        "spam_score": message.spam_score,
        "is_spam": message.is_spam,
        "verdict": stored_verdict(message.is_spam, message.spam_score),
    }


def get_live_message(session: Session, message_id: str, tenant_id: str, user_id: str) -> Message:
    """The caller's message unless soft-deleted; deleted and foreign look the same (404)."""
    message = get_owned(session, Message, message_id, tenant_id, user_id)
    if message.deleted_at is not None:
        raise NotFound("Message not found", {"id": message_id})
    return message


def _attachments_of(session: Session, message: Message) -> list[Attachment]:
    query = scoped(Attachment, message.tenant_id, message.user_id).where(Attachment.message_id == message.id)
    return list(session.scalars(query.order_by(Attachment.created_at, Attachment.id)))


def attachment_summary(attachment: Any) -> dict[str, Any]:
    """An attachment's line in a message view (from an Attachment or a row of its columns)."""
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "is_inline": attachment.is_inline,
        "content_id": attachment.content_id,
    }


def get_message(session: Session, message_id: str, tenant_id: str, user_id: str) -> dict[str, Any]:
    """The full message; body_html was sanitised at sync time and is served as stored."""
    message = get_live_message(session, message_id, tenant_id, user_id)
    return message_detail(message, _attachments_of(session, message))


def message_detail(message: Any, attachments: Iterable[Any]) -> dict[str, Any]:
    """The full view of a message (a Message or a row of its columns) and its attachments."""
    view = message_summary(message, max_to=None)
    view.update(
        {
            "headers": dict(message.headers or {}),
            "cc": list(message.cc_addresses or []),
            "reply_to": list(message.reply_to or []),
            "body_text": message.body_text,
            "body_html": message.body_html,
            "raw_size": message.raw_size,
            "attachments": [attachment_summary(a) for a in attachments],
            "spam_indicators": list(message.spam_indicators or []),
            "spam_checked_at": iso_or_none(message.spam_checked_at),
            "parse_error": message.parse_error,
            "is_quarantined": message.parse_error is not None,
        }
    )
    return view


def get_attachment(
    session: Session, message_id: str, attachment_id: str, tenant_id: str, user_id: str
) -> AttachmentFile:
    """Bytes of one attachment of one live message of the caller; any mismatch is a 404."""
    message = get_live_message(session, message_id, tenant_id, user_id)
    attachment = get_owned(session, Attachment, attachment_id, tenant_id, user_id)
    if attachment.message_id != message.id:
        raise NotFound("Attachment not found", {"id": attachment_id})
    return AttachmentFile(attachment.filename, attachment.content_type, bytes(attachment.content))
