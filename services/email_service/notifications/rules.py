"""Pure rules: who may be mailed, which toggles apply, and what of a task result may appear in a mail."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import quote

from email_service.notifications.catalog import EmailTemplate

# Keys whose values could carry secrets or mail content are dropped even when they hold a number.
SENSITIVE_KEY = re.compile(r"pass|secret|token|key|auth|cred|body|html|text|content|raw|subject", re.I)
ID_KEY = re.compile(r"^(?:[a-z0-9_]*_)?id$")
IDS_KEY = re.compile(r"^[a-z0-9_]*_ids$")
MAX_ID_LENGTH = 200
MAX_IDS = 20
MAX_KEYS = 30


def is_undeliverable(address: str | None, patterns: Iterable[str]) -> bool:
    """True for an empty or malformed address, or one matching a placeholder pattern (case-insensitive)."""
    value = (address or "").strip().lower()
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or any(ch in value for ch in " \r\n<>,"):
        return True
    return any(fnmatchcase(value, pattern.strip().lower()) for pattern in patterns if pattern.strip())


def _switches(settings: Mapping[str, Any] | None) -> Mapping[str, Any] | bool:
    value = (settings or {}).get("notifications", {})
    return value if isinstance(value, (Mapping, bool)) else {}


def event_enabled(
    template: EmailTemplate,
    tenant_settings: Mapping[str, Any] | None,
    user_settings: Mapping[str, Any] | None,
) -> bool:
    """Tenant: settings.notifications false, or its key false, switches an event off for everyone.

    User: an opt-in template needs its key true; any other template is on unless its key is false.
    """
    if not template.spec.switchable:
        return True
    tenant = _switches(tenant_settings)
    if tenant is False or (isinstance(tenant, Mapping) and tenant.get(template.event_key) is False):
        return False
    user = _switches(user_settings)
    wanted = user.get(template.event_key) if isinstance(user, Mapping) else user
    if template.spec.opt_in:
        return wanted is True
    return wanted is not False


def safe_result(result: Any) -> dict[str, Any]:
    """Counts, flags, a status and ids only: nothing a task returned as text, nested data or secrets."""
    if not isinstance(result, Mapping):
        return {}
    safe: dict[str, Any] = {}
    for key, value in result.items():
        if len(safe) >= MAX_KEYS or not isinstance(key, str):
            break
        if key == "status" and isinstance(value, str) and len(value) <= 40:
            safe[key] = value
        elif SENSITIVE_KEY.search(key):
            continue
        elif ID_KEY.match(key) and isinstance(value, str) and len(value) <= MAX_ID_LENGTH:
            safe[key] = value
        elif IDS_KEY.match(key) and isinstance(value, list) and all(isinstance(v, str) for v in value):
            safe[key] = [v for v in value[:MAX_IDS] if len(v) <= MAX_ID_LENGTH]
        elif isinstance(value, (bool, int, float)):
            safe[key] = value
    return safe


def task_label(task_name: str) -> str:
    """'email_service.tasks.send_email' → 'Send email'."""
    short = task_name.rsplit(".", 1)[-1].replace("_", " ").strip()
    return short[:1].upper() + short[1:] if short else "Task"


def frontend_links(frontend_url: str, task_id: str | None, ids: Mapping[str, Any]) -> dict[str, str]:
    """Deep links into the frontend for whichever ids the notification carries."""
    base = frontend_url.rstrip("/")
    links = {"frontend_url": base}
    routes = {"task_url": ("tasks", task_id), "account_url": ("accounts", ids.get("account_id"))}
    routes["outbox_url"] = ("outbox", ids.get("outbox_id"))
    routes["message_url"] = ("messages", ids.get("email_id"))
    for name, (path, value) in routes.items():
        if isinstance(value, str) and value:
            links[name] = f"{base}/{path}/{quote(value, safe='')}"
    return links
