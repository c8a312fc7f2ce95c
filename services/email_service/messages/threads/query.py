"""Reading threads: a keyset-paginated listing of conversations and one conversation oldest first.

Filters (account, folder, q=) pick which conversations show, reusing the message listing's scoping
and search; counts, participants and the last date are over the whole conversation in every folder
(a reply in Sent counts), live messages only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from email_service.core.errors import BadRequest, NotFound
from email_service.core.model_base import iso_or_none
from email_service.messages import service
from email_service.messages.model import Message
from email_service.messages.service import Cursor, MessageFilter, decode_cursor, encode_cursor

MAX_PARTICIPANTS = 20


@dataclass(frozen=True)
class ThreadPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def _live(tenant_id: str, user_id: str) -> Any:
    return and_(Message.tenant_id == tenant_id, Message.user_id == user_id, Message.deleted_at.is_(None))


def _matching_threads(session: Session, tenant_id: str, user_id: str, filters: MessageFilter) -> Any:
    """Thread ids with at least one live message passing the filters (unread is per thread)."""
    query: Any = select(Message.thread_id).where(_live(tenant_id, user_id), Message.thread_id.is_not(None))
    query = service.owned_scope(session, query, filters, tenant_id, user_id)
    narrowed = MessageFilter(sender=filters.sender, text=filters.text, search=filters.search)
    return service.apply_filters(session, query, narrowed, user_id)


def list_threads(
    session: Session,
    tenant_id: str,
    user_id: str,
    filters: MessageFilter,
    cursor: str | None = None,
    limit: int = service.DEFAULT_LIMIT,
) -> ThreadPage:
    """One page of conversations, newest last message first, and the cursor for the next."""
    if not 1 <= limit <= service.MAX_LIMIT:
        raise BadRequest(f"limit must be an integer between 1 and {service.MAX_LIMIT}", {"field": "limit"})
    position = decode_cursor(cursor) if cursor is not None else None
    last = func.max(Message.date_sort)
    unread = func.sum(case((Message.is_read.is_(False), 1), else_=0))
    query: Any = (
        select(
            Message.thread_id,
            last.label("last_date"),
            func.count(Message.id).label("message_count"),
            unread.label("unread_count"),
            func.max(cast(Message.has_attachments, Integer)).label("has_attachments"),
        )
        .where(
            _live(tenant_id, user_id),
            Message.thread_id.in_(_matching_threads(session, tenant_id, user_id, filters)),
        )
        .group_by(Message.thread_id)
    )
    if filters.unread is not None:
        query = query.having(unread > 0 if filters.unread else unread == 0)
    if position is not None:
        query = query.having(
            or_(last < position.date_sort, and_(last == position.date_sort, Message.thread_id < position.id))
        )
    rows = list(session.execute(query.order_by(last.desc(), Message.thread_id.desc()).limit(limit + 1)))
    page, more = rows[:limit], len(rows) > limit
    details = _thread_messages(session, tenant_id, user_id, [r.thread_id for r in page])
    items = [_summary(row, details.get(row.thread_id, [])) for row in page]
    next_cursor = encode_cursor(Cursor(page[-1].last_date, page[-1].thread_id)) if more else None
    return ThreadPage(items, next_cursor)


def _thread_messages(
    session: Session, tenant_id: str, user_id: str, thread_ids: list[str]
) -> dict[str, list[Any]]:
    """The page's conversations' messages (light columns), oldest first."""
    if not thread_ids:
        return {}
    query = (
        select(Message.thread_id, Message.subject, Message.from_name, Message.from_address, Message.snippet)
        .where(_live(tenant_id, user_id), Message.thread_id.in_(thread_ids))
        .order_by(Message.date_sort, Message.id)
    )
    grouped: dict[str, list[Any]] = {}
    for row in session.execute(query):
        grouped.setdefault(row.thread_id, []).append(row)
    return grouped


def _participants(messages: list[Any]) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for m in messages:
        key = (m.from_address or m.from_name).lower()
        if key and key not in seen and len(seen) < MAX_PARTICIPANTS:
            seen[key] = {"name": m.from_name, "email": m.from_address}
    return list(seen.values())


def _summary(row: Any, messages: list[Any]) -> dict[str, Any]:
    return {
        "id": row.thread_id,
        "subject": messages[0].subject if messages else "",
        "participants": _participants(messages),
        "message_count": int(row.message_count),
        "unread_count": int(row.unread_count or 0),
        "has_attachments": bool(row.has_attachments),
        "last_date": iso_or_none(row.last_date),
        "snippet": messages[-1].snippet if messages else "",
    }


def get_thread(session: Session, thread_id: str, tenant_id: str, user_id: str) -> dict[str, Any]:
    """One conversation of the caller, its live messages oldest first; anyone else's is a 404."""
    query = (
        select(*service.SUMMARY_COLUMNS)
        .where(_live(tenant_id, user_id), Message.thread_id == thread_id)
        .order_by(Message.date_sort, Message.id)
    )
    rows = list(session.execute(query))
    if not rows:
        raise NotFound("Thread not found", {"id": thread_id})
    return {
        "id": thread_id,
        "subject": rows[0].subject,
        "messages": [service.message_summary(r) for r in rows],
    }
