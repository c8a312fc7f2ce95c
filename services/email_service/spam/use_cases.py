"""The spam API's use cases: queue a re-check of one message, learn from the user's label."""

from __future__ import annotations

from typing import Any

from email_service.core.db import session_scope
from email_service.core.tasking.records import record_task
from email_service.core.tasking.start import publish_recorded
from email_service.core.tenancy.scoping import get_owned
from email_service.core.tenancy.tokens import Identity
from email_service.messages.model import Message
from email_service.spam.service import record_feedback


def request_spam_check(caller: Identity, message_id: str) -> str:
    """Another user's message is a 404; the task is recorded under the message's account."""
    with session_scope(caller.tenant_id) as session:
        message = get_owned(session, Message, message_id, caller.tenant_id, caller.user_id)
        task_id = record_task(
            session, caller.tenant_id, caller.user_id, "check_spam", account_id=message.account_id
        ).task_id
    return publish_recorded(caller, "check_spam", task_id, {"email_id": message_id})


def give_feedback(caller: Identity, message_id: str, is_spam: bool) -> dict[str, Any]:
    with session_scope(caller.tenant_id) as session:
        return record_feedback(session, message_id, caller.tenant_id, caller.user_id, is_spam)
