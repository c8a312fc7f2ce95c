"""Batched sending through the real worker (prefork, 2 processes): 20 queued rows, 20 tasks published
as the API publishes them; whichever runs first sends the others, yet each task ends with its own row."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from typing import Any

from celery.result import AsyncResult

from email_service.core.db import session_scope
from email_service.core.tasking.start import publish_task
from email_service.sending.model import OutboxMessage
from email_service.sending.outbox import queue_send, validate_send
from email_service.tasks.celery_app import celery_app
from tests.conftest import make_caller
from tests.integration.sending.send_support import make_send_account
from tests.servers.smtp_server import SmtpTestServer

COUNT = 20


def _queue_rows(tenant_id: str, user_id: str, account_id: str) -> list[str]:
    """Outbox rows with their MIME built, exactly as POST /api/email/send writes them."""
    ids = []
    with session_scope(tenant_id) as session:
        for n in range(COUNT):
            request: dict[str, Any] = {
                "email_client_id": account_id,
                "to": ["Bob <bob@example.test>"],
                "subject": f"worker batch {n}",
                "body_text": f"message {n}",
            }
            validate_send(session, request, tenant_id, user_id)
            ids.append(queue_send(session, tenant_id, user_id, request, None).task_id)
    return ids


def test_twenty_tasks_deliver_twenty_messages_each_with_its_own_result(
    worker: Any, clean_db: Any, smtp: SmtpTestServer
) -> None:
    caller = make_caller()
    account = make_send_account(caller, smtp, provider_saves_sent=True)
    ids = _queue_rows(caller.tenant_id, caller.user_id, account.account_id)
    body = {"email_client_id": account.account_id, "to": ["Bob <bob@example.test>"]}
    for task_id in ids:
        publish_task("send_email", task_id, caller.tenant_id, caller.user_id, body)
    results = {i: AsyncResult(i, app=celery_app).get(timeout=120) for i in ids}
    with session_scope(caller.tenant_id) as session:
        rows = {i: session.get(OutboxMessage, i) for i in ids}
    for outbox_id, result in results.items():
        row = rows[outbox_id]
        assert row is not None and (row.status, row.attempts) == ("sent", 1)
        assert result["status"] == "sent" and result["message_id"] == row.message_id_header
    assert len({r["message_id"] for r in results.values()}) == COUNT
    parser = BytesParser(policy=policy.default)
    delivered = [str(parser.parsebytes(m.data)["Message-ID"]) for m in smtp.messages]
    assert sorted(delivered) == sorted(r["message_id"] for r in results.values())
