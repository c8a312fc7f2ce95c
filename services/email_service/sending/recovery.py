"""Outbox rows the tick publishes: scheduled sends coming due, and sends whose queue message was lost.

Task messages carry ids only (the message lives in the row), so a far-future send costs nothing in
Redis or in worker memory: it waits here until it is due within RELEASE_AHEAD, then goes out with an
eta. Publishing twice is safe because the task id is the outbox row's id: a copy finds the row sent
(or running, under its run lock) and never sends twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select

from email_service.core.db import session_scope
from email_service.core.model_base import utcnow
from email_service.sending.model import OutboxMessage
from email_service.sending.outbox import RELEASE_AHEAD

# Longer than a send's whole retry schedule (5 + 10 + 20 s of backoff and the attempts themselves).
STALE_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class StaleSend:
    """A send_email to publish: its row id (= task id), owner, and when it is due (None: now)."""

    outbox_id: str
    account_id: str
    tenant_id: str
    user_id: str
    kwargs: dict[str, Any]
    eta: datetime | None = None


def send_task_kwargs(account_id: str) -> dict[str, Any]:
    """send_email's arguments (tenant and user are added by start): ids only, never the message."""
    return {"email_client_id": account_id}


def _publishable(row: OutboxMessage, now: datetime) -> StaleSend:
    eta = row.send_at if row.send_at is not None and row.send_at > now else None
    kwargs = send_task_kwargs(row.account_id)
    return StaleSend(row.id, row.account_id, row.tenant_id, row.user_id, kwargs, eta)


def release_due_sends(now: datetime | None = None, limit: int = 10_000) -> list[StaleSend]:
    """Scheduled rows due within RELEASE_AHEAD that were never published, marked released (committed)."""
    now = now or utcnow()
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == "scheduled",
            OutboxMessage.released_at.is_(None),
            OutboxMessage.send_at <= now + RELEASE_AHEAD,
        )
        .order_by(OutboxMessage.send_at)
        .limit(limit)
    )
    with session_scope(system=True) as session:
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)  # a second beat passes these over
        rows = list(session.scalars(query))
        for row in rows:
            row.released_at = now
        return [_publishable(row, now) for row in rows]


def stale_sends(now: datetime | None = None, limit: int = 1000) -> list[StaleSend]:
    """Queued rows untouched for STALE_AFTER, and scheduled rows released and due that long ago."""
    now = now or utcnow()
    cutoff = now - STALE_AFTER
    query = (
        select(OutboxMessage)
        .where(
            or_(
                and_(OutboxMessage.status == "queued", OutboxMessage.updated_at < cutoff),
                and_(
                    OutboxMessage.status == "scheduled",
                    OutboxMessage.released_at < cutoff,
                    OutboxMessage.send_at < cutoff,
                ),
            )
        )
        .order_by(OutboxMessage.updated_at)
        .limit(limit)
    )
    with session_scope(system=True) as session:
        return [_publishable(row, now) for row in session.scalars(query)]
