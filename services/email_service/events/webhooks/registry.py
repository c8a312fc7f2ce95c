"""Registering and changing endpoints: the URL under the outbound policy, known event types, a fresh
secret, a bounded number per user (each change fans out to every endpoint of its owner)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_service.core.config import get_settings
from email_service.core.crypto import get_secret_box
from email_service.core.errors import Conflict, ValidationFailed
from email_service.core.model_base import new_id
from email_service.events.model import EVENT_TYPES
from email_service.events.webhooks.dispatch import secret_context
from email_service.events.webhooks.fanout import ALL_EVENTS
from email_service.events.webhooks.http_post import UrlRefused, check_url
from email_service.events.webhooks.model import Webhook
from email_service.events.webhooks.signing import new_secret

MAX_URL = 2000
MAX_EVENTS = 20
MAX_WEBHOOKS_PER_USER = 20


@dataclass(frozen=True)
class Created:
    id: str
    url: str
    events: list[str]
    secret: str  # shown once, at creation


def check_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e != ALL_EVENTS and e not in EVENT_TYPES]
    if not events or unknown:
        raise ValidationFailed(
            f"events must be among {', '.join(EVENT_TYPES)} (or '*')", {"field": "events", "unknown": unknown}
        )
    return sorted(set(events))


def checked_url(url: str) -> str:
    if len(url) > MAX_URL:
        raise ValidationFailed("url is too long", {"field": "url"})
    try:
        check_url(url, get_settings().allowed_private_hosts)
    except UrlRefused as exc:
        raise ValidationFailed(f"url: {exc}", {"field": "url"}) from None
    return url


def create_webhook(session: Session, owner: tuple[str, str], url: str, events: list[str]) -> Created:
    count = select(func.count()).where(Webhook.tenant_id == owner[0], Webhook.user_id == owner[1])
    if (session.scalar(count) or 0) >= MAX_WEBHOOKS_PER_USER:
        raise Conflict(f"at most {MAX_WEBHOOKS_PER_USER} webhooks per user", {"limit": MAX_WEBHOOKS_PER_USER})
    hook_id, secret = new_id(), new_secret()
    hook = Webhook(
        id=hook_id,
        tenant_id=owner[0],
        user_id=owner[1],
        url=checked_url(url),
        events=check_events(events),
        secret_ciphertext=get_secret_box().encrypt(secret, secret_context(hook_id)),
        enabled=True,
        consecutive_failures=0,
    )
    session.add(hook)
    session.flush()
    return Created(hook.id, hook.url, list(hook.events), secret)


def update_webhook(session: Session, hook: Webhook, changes: dict[str, Any]) -> Webhook:
    """Apply a PATCH; re-enabling clears the reason and the failure count so the endpoint starts afresh
    (its pending deliveries are due again and the sweep queues them)."""
    if "url" in changes:
        hook.url = checked_url(str(changes["url"]))
    if "events" in changes:
        hook.events = check_events(list(changes["events"]))
    if changes.get("enabled") is True and not hook.enabled:
        hook.enabled, hook.disabled_reason, hook.consecutive_failures = True, None, 0
    elif changes.get("enabled") is False:
        hook.enabled = False
        hook.disabled_reason = "disabled by its owner"
    session.flush()
    return hook
