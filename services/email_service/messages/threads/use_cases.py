"""What the threads API does, one function per request, each in its own tenant-scoped transaction."""

from __future__ import annotations

from typing import Any

from email_service.core.db import session_scope
from email_service.core.tenancy.tokens import Identity
from email_service.messages.service import MessageFilter
from email_service.messages.threads import query
from email_service.messages.threads.query import ThreadPage


def thread_page(caller: Identity, filters: MessageFilter, cursor: str | None, limit: int) -> ThreadPage:
    with session_scope(caller.tenant_id) as session:
        return query.list_threads(session, caller.tenant_id, caller.user_id, filters, cursor, limit)


def thread_view(caller: Identity, thread_id: str) -> dict[str, Any]:
    with session_scope(caller.tenant_id) as session:
        return query.get_thread(session, thread_id, caller.tenant_id, caller.user_id)
