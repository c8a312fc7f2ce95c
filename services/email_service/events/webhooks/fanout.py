"""Delivery rows for the changes being committed: one per (change, enabled subscribed endpoint).

Called from the change log's before_commit write, so a delivery exists exactly when its change does
(never lost between the log and the webhooks, never sent for a change that was rolled back).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, select, tuple_
from sqlalchemy.orm import Session

from email_service.core.model_base import iso_or_none, new_id
from email_service.events.webhooks.model import PENDING, Webhook, WebhookDelivery

ALL_EVENTS = "*"
DELIVERIES: Table = WebhookDelivery.__table__  # type: ignore[assignment]
Hook = tuple[str, str, str, list[str]]  # id, tenant, user, events


def subscribed_hooks(session: Session, owners: set[tuple[str, str]]) -> list[Hook]:
    """The enabled endpoints of these owners (one indexed query per committing transaction)."""
    query = select(Webhook.id, Webhook.tenant_id, Webhook.user_id, Webhook.events).where(
        tuple_(Webhook.tenant_id, Webhook.user_id).in_(sorted(owners)), Webhook.enabled.is_(True)
    )
    return [(str(i), str(t), str(u), list(e or [])) for i, t, u, e in session.execute(query)]


def event_data(seq: int, row: dict[str, Any]) -> dict[str, Any]:
    """The change as GET /api/changes shows it: the event's `data`."""
    return {
        "id": str(seq),
        "type": row["type"],
        "account_id": row["account_id"],
        "object_id": row["object_id"],
        "at": iso_or_none(row["created_at"]),
        "data": row["data"] or {},
    }


def write_deliveries(
    session: Session, hooks: Sequence[Hook], rows: Sequence[dict[str, Any]], seqs: Sequence[int]
) -> list[str]:
    """Insert the pending deliveries of these committed-together changes; returns their ids."""
    by_owner: dict[tuple[str, str], list[Hook]] = {}
    for hook in hooks:
        by_owner.setdefault((hook[1], hook[2]), []).append(hook)
    deliveries: list[dict[str, Any]] = []
    for row, seq in zip(rows, seqs, strict=True):
        for hook_id, tenant_id, user_id, events in by_owner.get((row["tenant_id"], row["user_id"]), []):
            if ALL_EVENTS not in events and row["type"] not in events:
                continue
            deliveries.append(
                {
                    "id": new_id(),
                    "tenant_id": tenant_id,
                    "user_id": user_id,
                    "webhook_id": hook_id,
                    "change_seq": seq,
                    "type": row["type"],
                    "payload": event_data(seq, row),
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": row["created_at"],
                    "created_at": row["created_at"],
                    "updated_at": row["created_at"],
                }
            )
    if deliveries:
        session.execute(DELIVERIES.insert(), deliveries)
    return [d["id"] for d in deliveries]
