"""What the webhook routes do, each in one transaction scoped to the caller (another's endpoint: 404)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, tuple_
from sqlalchemy.orm import Session

from email_service.core.db import session_scope
from email_service.core.model_base import iso_or_none
from email_service.core.tenancy.scoping import get_owned, scoped
from email_service.core.tenancy.tokens import Identity
from email_service.events.webhooks import registry
from email_service.events.webhooks.model import Webhook, WebhookDelivery
from email_service.messages.service import Cursor, decode_cursor, encode_cursor


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def webhook_view(hook: Webhook) -> dict[str, Any]:
    return {
        "id": hook.id,
        "url": hook.url,
        "events": list(hook.events or []),
        "enabled": hook.enabled,
        "disabled_reason": hook.disabled_reason,
        "consecutive_failures": hook.consecutive_failures,
        "created_at": iso_or_none(hook.created_at),
        "updated_at": iso_or_none(hook.updated_at),
    }


def delivery_view(row: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": row.id,
        "change_id": str(row.change_seq),
        "type": row.type,
        "status": row.status,
        "attempts": row.attempts,
        "last_status_code": row.last_status_code,
        "last_latency_ms": row.last_latency_ms,
        "last_error": row.last_error,
        "last_attempt_at": iso_or_none(row.last_attempt_at),
        "next_attempt_at": iso_or_none(row.next_attempt_at),
        "created_at": iso_or_none(row.created_at),
    }


def _owned(session: Session, caller: Identity, webhook_id: str) -> Webhook:
    return get_owned(session, Webhook, webhook_id, caller.tenant_id, caller.user_id)


def create(caller: Identity, url: str, events: list[str]) -> dict[str, Any]:
    """201 body: the endpoint and its secret (the only time the secret is shown)."""
    with session_scope(caller.tenant_id) as session:
        created = registry.create_webhook(session, (caller.tenant_id, caller.user_id), url, events)
        return {**webhook_view(_owned(session, caller, created.id)), "secret": created.secret}


def show(caller: Identity, webhook_id: str) -> dict[str, Any]:
    with session_scope(caller.tenant_id) as session:
        return webhook_view(_owned(session, caller, webhook_id))


def change(caller: Identity, webhook_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    with session_scope(caller.tenant_id) as session:
        hook = _owned(session, caller, webhook_id)
        return webhook_view(registry.update_webhook(session, hook, changes))


def remove(caller: Identity, webhook_id: str) -> None:
    """The endpoint and its delivery log go; queued attempts find no endpoint and are skipped."""
    with session_scope(caller.tenant_id) as session:
        hook = _owned(session, caller, webhook_id)
        session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id))
        session.delete(hook)


def webhook_page(caller: Identity, cursor: str | None, limit: int) -> Page:
    """The caller's endpoints, newest first, keyset-paginated on (created_at, id)."""
    query = scoped(Webhook, caller.tenant_id, caller.user_id)
    if cursor is not None:
        at = decode_cursor(cursor)
        query = query.where(tuple_(Webhook.created_at, Webhook.id) < tuple_(at.date_sort, at.id))
    with session_scope(caller.tenant_id) as session:
        order = (Webhook.created_at.desc(), Webhook.id.desc())
        rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
        more, rows = len(rows) > limit, rows[:limit]
        following = encode_cursor(Cursor(rows[-1].created_at, rows[-1].id)) if more else None
        return Page([webhook_view(r) for r in rows], following)


def delivery_page(
    caller: Identity, webhook_id: str, status: str | None, cursor: str | None, limit: int
) -> Page:
    """One endpoint's delivery log (kept WEBHOOK_RETENTION_DAYS), newest first."""
    query = scoped(WebhookDelivery, caller.tenant_id, caller.user_id).where(
        WebhookDelivery.webhook_id == webhook_id
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if cursor is not None:
        at = decode_cursor(cursor)
        query = query.where(
            tuple_(WebhookDelivery.created_at, WebhookDelivery.id) < tuple_(at.date_sort, at.id)
        )
    order = (WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    with session_scope(caller.tenant_id) as session:
        _owned(session, caller, webhook_id)
        rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
        more, rows = len(rows) > limit, rows[:limit]
        following = encode_cursor(Cursor(rows[-1].created_at, rows[-1].id)) if more else None
        return Page([delivery_view(r) for r in rows], following)
