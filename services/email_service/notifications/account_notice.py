"""Tell an account's owner once that its login fails, not at every periodic sync."""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from email_service.accounts.model import EmailAccount
from email_service.core.db import session_scope
from email_service.notifications.catalog import EmailTemplate
from email_service.notifications.dispatch import publish_notification
from email_service.notifications.request import NotificationRequest

log = logging.getLogger(__name__)


def _set_notified(tenant_id: str, user_id: str, account_id: str, value: bool) -> bool:
    """Flip auth_error_notified atomically; True only for the run that changed it."""
    with session_scope(tenant_id) as session:
        outcome = session.execute(
            update(EmailAccount)
            .where(
                EmailAccount.id == account_id,
                EmailAccount.tenant_id == tenant_id,
                EmailAccount.user_id == user_id,
                EmailAccount.state == "auth_error",
                EmailAccount.auth_error_notified.is_(not value),
            )
            .values(auth_error_notified=value)
        )
        return bool(getattr(outcome, "rowcount", 0))


def notify_auth_failure(
    account_id: str, tenant_id: str, user_id: str, task_name: str, task_id: str | None, error: str
) -> str | None:
    """Queue ACCOUNT_AUTH_FAILED unless already sent since the last password change; never raises."""
    try:
        if not _set_notified(tenant_id, user_id, account_id, True):
            return None
        request = NotificationRequest.for_outcome(
            EmailTemplate.ACCOUNT_AUTH_FAILED.value,
            tenant_id,
            user_id,
            task_name=task_name,
            task_id=task_id,
            status="failed",
            error_message=error,
            account_id=account_id,
        )
        queued = publish_notification(request)
        if queued is None:  # not queued: let the next failing run try again
            _set_notified(tenant_id, user_id, account_id, False)
        return queued
    except SQLAlchemyError as exc:  # the once-flag could not be set: the next failing run tries again
        log.warning("auth-failure notice for account %s not queued: %s", account_id, exc)
        return None
    except Exception:  # a bug: loud in the log with its traceback, but the sync's outcome stands
        log.exception("auth-failure notice for account %s not queued: unexpected error", account_id)
        return None
