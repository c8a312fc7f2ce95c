"""Sends whose queue message was lost (a Redis restart without persistence) are published again.

Safe because the task id is the outbox row's id: a copy of a message still in the queue finds the row
sent (or running, under its run lock) and never sends twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select

from email_service.core.db import session_scope
from email_service.core.model_base import utcnow
from email_service.sending.model import OutboxMessage

# Longer than a send's whole retry schedule (5 + 10 + 20 s of backoff and the attempts themselves).
STALE_AFTER = timedelta(minutes=10)
CONTRACT_FIELDS = ("to", "cc", "bcc", "subject", "body_text", "body_html", "attachment_ids")


@dataclass(frozen=True)
class StaleSend:
    outbox_id: str
    account_id: str
    tenant_id: str
    user_id: str
    kwargs: dict[str, Any]


def send_task_kwargs(account_id: str, request: dict[str, Any]) -> dict[str, Any]:
    """The send_email contract arguments (without tenant and user) from a stored request."""
    return {"email_client_id": account_id, **{name: request.get(name) for name in CONTRACT_FIELDS}}


def stale_sends(now: datetime | None = None, limit: int = 1000) -> list[StaleSend]:
    """Queued rows untouched for STALE_AFTER, and scheduled rows that are that far past due."""
    cutoff = (now or utcnow()) - STALE_AFTER
    query = (
        select(OutboxMessage)
        .where(
            or_(
                and_(OutboxMessage.status == "queued", OutboxMessage.updated_at < cutoff),
                and_(OutboxMessage.status == "scheduled", OutboxMessage.send_at < cutoff),
            )
        )
        .order_by(OutboxMessage.updated_at)
        .limit(limit)
    )
    with session_scope(system=True) as session:
        return [
            StaleSend(
                row.id,
                row.account_id,
                row.tenant_id,
                row.user_id,
                send_task_kwargs(row.account_id, row.request),
            )
            for row in session.scalars(query)
        ]
