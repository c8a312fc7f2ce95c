"""What the messages API does, one function per request, each in its own tenant-scoped transaction."""

from __future__ import annotations

from typing import Any

from email_service.core.db import session_scope
from email_service.core.tenancy.tokens import Identity
from email_service.messages import service
from email_service.messages.service import AttachmentFile, MessageFilter, MessagePage


def message_page(caller: Identity, filters: MessageFilter, cursor: str | None, limit: int) -> MessagePage:
    with session_scope(caller.tenant_id) as session:
        return service.list_messages(session, caller.tenant_id, caller.user_id, filters, cursor, limit)


def message_view(caller: Identity, message_id: str) -> dict[str, Any]:
    with session_scope(caller.tenant_id) as session:
        return service.get_message(session, message_id, caller.tenant_id, caller.user_id)


def attachment_file(caller: Identity, message_id: str, attachment_id: str) -> AttachmentFile:
    with session_scope(caller.tenant_id) as session:
        return service.get_attachment(session, message_id, attachment_id, caller.tenant_id, caller.user_id)
