"""Registering an endpoint: the URL under the outbound policy, known event types, a fresh secret."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from email_service.core.config import get_settings
from email_service.core.crypto import get_secret_box
from email_service.core.errors import ValidationFailed
from email_service.core.model_base import new_id
from email_service.events.model import EVENT_TYPES
from email_service.events.webhooks.dispatch import secret_context
from email_service.events.webhooks.fanout import ALL_EVENTS
from email_service.events.webhooks.http_post import UrlRefused, check_url
from email_service.events.webhooks.model import Webhook
from email_service.events.webhooks.signing import new_secret

MAX_URL = 2000


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
