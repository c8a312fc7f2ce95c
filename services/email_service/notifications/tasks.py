"""send_notification (queue send): render and mail one notification; it never raises into anyone else.

A redelivered or repeated outcome (a failed send seen again) is dropped by a Redis once-key per
(reported task, template), so the user gets one mail per outcome.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from celery import shared_task
from jinja2 import TemplateError
from sqlalchemy.exc import OperationalError

from email_service.core.config import get_settings
from email_service.core.tasking.base import TenantTask
from email_service.mail.smtp.client import SmtpError, SmtpTransientError, SmtpUncertainError
from email_service.notifications.delivery import deliver
from email_service.notifications.mailer import SystemMailer
from email_service.notifications.request import NotificationRequest
from email_service.sync.lock import redis_client

log = logging.getLogger(__name__)
ONCE_PREFIX = "email_service:notified:"
ONCE_TTL_SECONDS = 7 * 24 * 3600
RETRYABLE = (SmtpTransientError, OperationalError)


def _once(key: str, claim: bool) -> bool:
    """Claim (or release) the once-key; without Redis we send rather than stay silent."""
    client = redis_client(get_settings().broker_url)
    try:
        if not claim:
            client.delete(key)
            return True
        return bool(client.set(key, "1", nx=True, ex=ONCE_TTL_SECONDS))
    except redis.RedisError as exc:
        log.warning("notification once-key unavailable: %s", exc)
        return True
    finally:
        client.close()


@shared_task(bind=True, base=TenantTask, name="email_service.tasks.send_notification", max_retries=3)
def send_notification(
    self: TenantTask, template: str, tenant_id: str, user_id: str, **fields: Any
) -> dict[str, Any]:
    """Deliver one notification; transient SMTP trouble is retried a few times, then logged, never raised.

    An uncertain send (the body went out, no final reply) is never retried: a user gets no notice twice.
    """
    fields.setdefault("task_id", self.request.id)
    request = NotificationRequest(template, tenant_id, user_id, **fields)
    key = f"{ONCE_PREFIX}{request.task_id}:{template}"
    if not _once(key, claim=True):
        return {"status": "skipped", "reason": "duplicate", "template": template}
    try:
        return deliver(request, SystemMailer.from_settings(get_settings()), get_settings())
    except SmtpUncertainError as exc:  # it may have arrived: the once-key stays taken, no retry
        log.warning("notification %s for task %s may have been delivered: %s", template, request.task_id, exc)
        return {"status": "uncertain", "template": template, "error": str(exc)}
    except RETRYABLE as exc:
        _once(key, claim=False)
        if (self.request.retries or 0) < (self.max_retries or 0):
            raise self.retry_later(exc) from exc
        log.error("notification %s for task %s not delivered: %s", template, request.task_id, exc)
        return {"status": "failed", "template": template, "error": str(exc)}
    except (SmtpError, TemplateError, LookupError, ValueError) as exc:  # permanent refusal, bad template
        log.error("notification %s for task %s not delivered: %s", template, request.task_id, exc)
        return {"status": "failed", "template": template, "error": str(exc)}
