"""send_email task (queue send): a thin entry point over sending.drainer.

The task id is the outbox row's id, so a redelivered or retried message finds the same row and
never starts a second SMTP transaction for a message already sent.
"""

from __future__ import annotations

import atexit
import logging
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from celery import shared_task, states
from sqlalchemy.exc import OperationalError

from email_service.core.errors import TransientError
from email_service.core.model_base import new_id
from email_service.core.tasking.base import TenantTask
from email_service.mail.smtp.client import SmtpTransientError
from email_service.notifications import EmailTemplate, email_notification
from email_service.sending.delivery import SmtpConnections
from email_service.sending.drainer import SendBusy, send_outbox_message
from email_service.sending.service import SendJob

log = logging.getLogger(__name__)
# One SMTP connection per account, reused by consecutive sends in this worker process.
SMTP_CONNECTIONS = SmtpConnections()
atexit.register(SMTP_CONNECTIONS.close)
RETRYABLE = (SmtpTransientError, OperationalError, TransientError)
BUSY_RETRY_SECONDS = 2.0
# The siblings' answers are stored by one thread beside the drain, so the next batch's SMTP does not
# wait for ~100 result-backend writes; the task still ends only once they are stored (or this passes).
ANNOUNCE_WAIT_SECONDS = 10.0
_announcer: ThreadPoolExecutor | None = None


@shared_task(bind=True, base=TenantTask, name="email_service.tasks.send_email", max_retries=3)
@email_notification(template=EmailTemplate.SEND_FAILED)
def send_email(
    self: TenantTask,
    email_client_id: str,
    tenant_id: str,
    user_id: str,
    to: list[str] | None = None,
    cc: list[str] | None = None,
    bcc: list[str] | None = None,
    subject: str = "",
    body_text: str = "",
    body_html: str | None = None,
    attachment_ids: list[str] | None = None,
) -> dict[str, Any]:
    """Send the outbox row named by this task's id.

    The API publishes ids only (the message is in the row). Called directly with the card's
    arguments (`send_email.delay(..., to=[...])`), it makes the row from them first.
    """
    request = {
        "to": to,
        "cc": cc,
        "bcc": bcc,
        "subject": subject,
        "body_text": body_text,
        "body_html": body_html,
        "attachment_ids": attachment_ids,
    }
    if to is None and cc is None and bcc is None:
        request = {}  # ids only: the row must exist
    job = SendJob(
        outbox_id=self.request.id or new_id(),
        account_id=email_client_id,
        tenant_id=tenant_id,
        user_id=user_id,
        request=request,
        final_attempt=(self.request.retries or 0) >= (self.max_retries or 0),
    )
    pending: list[Future[None]] = []
    try:
        return send_outbox_message(
            job, SMTP_CONNECTIONS, announce=lambda answers: pending.append(_announce(answers))
        )
    except SendBusy as exc:  # the account's drainer is still running after a long wait
        raise self.retry(exc=exc, countdown=BUSY_RETRY_SECONDS) from exc
    except RETRYABLE as exc:
        raise self.retry_later(exc) from exc
    finally:
        wait(pending, timeout=ANNOUNCE_WAIT_SECONDS)


def _announce(answers: dict[str, dict[str, Any]]) -> Future[None]:
    """Store the answers in the background thread (made on first use, so after the worker's fork)."""
    global _announcer
    if _announcer is None:
        _announcer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="send-announce")
    # The task's own backend (Celery keeps one per thread): its Redis pool is safe to share.
    return _announcer.submit(_store_sibling_results, send_email.backend, answers)


def _store_sibling_results(backend: Any, answers: dict[str, dict[str, Any]]) -> None:
    """Store the answers of sibling rows this run sent as their tasks' results (task id = row id).

    Each sibling task still runs later and stores the same answer; until then its poller would see
    'pending' for a message already delivered. Best effort: the rows hold the truth either way.
    """
    try:
        for task_id, result in answers.items():
            backend.store_result(task_id, result, states.SUCCESS)
    except Exception as exc:  # a result backend hiccup must not fail the delivering task
        log.warning("could not store %d sibling send results: %s", len(answers), type(exc).__name__)
