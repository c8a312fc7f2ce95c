"""What the messages API does, one function per request, each in its own tenant-scoped transaction."""

from __future__ import annotations

from typing import Any

from email_service.core.db import session_scope
from email_service.core.tenancy.tokens import Identity
from email_service.messages import reads, service
from email_service.messages.service import AttachmentFile, MessageFilter, MessagePage


def message_page(caller: Identity, filters: MessageFilter, cursor: str | None, limit: int) -> MessagePage:
    """A plain listing in one round trip (reads.py); searches and sender filters through a session."""
    position = service.decode_cursor(cursor) if cursor is not None else None
    aware = position is None or position.date_sort.utcoffset() is not None
    if reads.is_plain(filters) and aware:
        return reads.message_page(caller.tenant_id, caller.user_id, filters, position, limit)
    with session_scope(caller.tenant_id) as session:
        return service.list_messages(session, caller.tenant_id, caller.user_id, filters, cursor, limit)


def message_view(caller: Identity, message_id: str) -> dict[str, Any]:
    return reads.message_view(caller.tenant_id, caller.user_id, message_id)


def attachment_file(caller: Identity, message_id: str, attachment_id: str) -> AttachmentFile:
    with session_scope(caller.tenant_id) as session:
        return service.get_attachment(session, message_id, attachment_id, caller.tenant_id, caller.user_id)
