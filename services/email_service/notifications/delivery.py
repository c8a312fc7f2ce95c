"""The use case behind send_notification: load the user by id, apply the rules, render, send."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from email_service.accounts.model import EmailAccount
from email_service.core.config import Settings
from email_service.core.db import session_scope
from email_service.core.tenancy.tenant_model import Tenant
from email_service.core.tenancy.user_model import User
from email_service.notifications.catalog import EmailTemplate
from email_service.notifications.mailer import SystemMailer
from email_service.notifications.render import render_notification
from email_service.notifications.request import NotificationRequest
from email_service.notifications.rules import event_enabled, frontend_links, is_undeliverable, task_label
from email_service.sending.model import OutboxMessage

log = logging.getLogger(__name__)


@dataclass
class Facts:
    """Everything the rules and templates need, read inside the worker from the ids."""

    email: str
    name: str
    user_settings: dict[str, Any]
    tenant_settings: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def _user(session: Session, tenant_id: str, user_id: str) -> User | None:
    query = select(User).where(User.id == user_id, User.tenant_id == tenant_id)
    return session.scalars(query).first()


def user_opted_in(tenant_id: str, user_id: str, template: EmailTemplate) -> bool:
    """Cheap pre-check before publishing an opt-in notification (sync summaries)."""
    with session_scope(tenant_id) as session:
        user = _user(session, tenant_id, user_id)
        return user is not None and event_enabled(template, {}, user.settings)


def _entities(session: Session, request: NotificationRequest) -> dict[str, Any]:
    """The account's address and, for a send, the message's subject and recipients (the user's own data)."""
    extra: dict[str, Any] = {}
    if request.account_id:
        account = session.get(EmailAccount, request.account_id)
        if account is not None and (account.tenant_id, account.user_id) == (
            request.tenant_id,
            request.user_id,
        ):
            extra["account_email"] = account.email_address
    if request.template == EmailTemplate.SEND_FAILED and request.task_id:
        row = session.get(OutboxMessage, request.task_id)
        if row is not None and (row.tenant_id, row.user_id) == (request.tenant_id, request.user_id):
            stored = row.request or {}
            extra["outbox_id"] = row.id
            extra["message_subject"] = str(stored.get("subject") or "")
            extra["recipients"] = [str(a) for a in (stored.get("to") or [])][:10]
    return extra


def load_facts(request: NotificationRequest) -> Facts | None:
    with session_scope(request.tenant_id) as session:
        user = _user(session, request.tenant_id, request.user_id)
        if user is None:
            return None
        tenant = session.get(Tenant, request.tenant_id)
        return Facts(
            email=user.email,
            name=user.name,
            user_settings=dict(user.settings or {}),
            tenant_settings=dict(tenant.settings or {}) if tenant else {},
            extra=_entities(session, request),
        )


def build_context(request: NotificationRequest, facts: Facts, frontend_url: str) -> dict[str, Any]:
    """Template variables: the documented names, the safe result, loaded entities and frontend links."""
    template = EmailTemplate(request.template)
    ids = {"account_id": request.account_id, **request.result, **facts.extra}
    links = frontend_links(frontend_url, request.task_id, ids)
    counts = {
        k: v for k, v in request.result.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    return {
        **request.result,
        **facts.extra,
        **links,
        "recipient_name": facts.name or facts.email.split("@")[0],
        "task_name": request.task_name,
        "task_label": task_label(request.task_name),
        "task_id": request.task_id or "",
        "status": request.status,
        "execution_time": request.execution_time,
        "error_message": request.error_message,
        "completed_at": request.completed_at,
        "counts": counts,
        "primary_url": links.get(template.spec.primary_link),
    }


def skip_reason(template: EmailTemplate, facts: Facts, patterns: tuple[str, ...]) -> str | None:
    if not event_enabled(template, facts.tenant_settings, facts.user_settings):
        return "switched_off"
    if is_undeliverable(facts.email, patterns):
        return "undeliverable_address"
    return None


def deliver(request: NotificationRequest, mailer: SystemMailer, settings: Settings) -> dict[str, Any]:
    """{"status": "sent"} or {"status": "skipped", "reason": ...}; SMTP errors propagate to the task."""
    template = EmailTemplate(request.template)
    outcome: Mapping[str, Any] = {"template": template.value, "reported_task_id": request.task_id}
    if not mailer.configured:
        log.info("notification %s skipped: SMTP_HOST is not configured", template.value)
        return {**outcome, "status": "skipped", "reason": "smtp_not_configured"}
    facts = load_facts(request)
    reason = (
        "user_not_found"
        if facts is None
        else skip_reason(template, facts, settings.notification_skip_patterns)
    )
    if facts is None or reason is not None:
        log.info("notification %s for user %s skipped: %s", template.value, request.user_id, reason)
        return {**outcome, "status": "skipped", "reason": reason}
    mail = render_notification(
        template, build_context(request, facts, settings.frontend_url), request.subject_template
    )
    mailer.send(facts.email, mail)
    log.info("notification %s sent to user %s", template.value, request.user_id)
    return {**outcome, "status": "sent"}
