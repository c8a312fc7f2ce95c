"""Helpers for the send tests: accounts pointing at the SMTP test server (and Dovecot), task runs."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, cast

from celery.result import EagerResult
from sqlalchemy import select

from email_service.accounts.service import create_account
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.tasking.model import TaskRecord
from email_service.sending.model import OutboxMessage
from email_service.sending.service import SendJob, claim_in
from email_service.sending.tasks import send_email
from tests.conftest import Caller
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.smtp_fixtures import SMTP_USERS
from tests.servers.smtp_server import SmtpTestServer

SMTP_USER = "alice@example.test"


@dataclass(frozen=True)
class SendAccount:
    caller: Caller
    account_id: str
    email: str


def make_send_account(
    caller: Caller,
    smtp: SmtpTestServer,
    imap_user: ImapUser | None = None,
    provider_saves_sent: bool = False,
    imap_port: int | None = None,
) -> SendAccount:
    """SMTP over STARTTLS to the test server (its certificate pinned); IMAP on Dovecot when given."""
    if imap_user is not None:
        smtp.users[imap_user.username] = imap_user.password  # one login for both servers
        username, password, email = imap_user.username, imap_user.password, imap_user.email
        imap_host, port = imap_user.host, imap_user.port
    else:
        username, password, email = SMTP_USER, SMTP_USERS[SMTP_USER], SMTP_USER
        imap_host, port = "127.0.0.1", 9
    data = {
        "email_address": email,
        "display_name": "Ålice Sender",
        "imap_host": imap_host,
        "imap_port": imap_port or port,
        "imap_security": "none",
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": "starttls",
        "username": username,
        "password": password,
        "pinned_cert_pem": smtp.cert_pem,
        "provider_saves_sent": provider_saves_sent,
    }
    with session_scope(caller.tenant_id) as session:
        account = create_account(session, get_secret_box(), caller.tenant_id, caller.user_id, data)
        return SendAccount(caller, account.id, email)


def post_send(client: Any, account: SendAccount, key: str | None = None, **fields: Any) -> Any:
    body = {"email_client_id": account.account_id, "to": ["Bob <bob@example.test>"], **fields}
    headers = dict(account.caller.headers)
    if key:
        headers["Idempotency-Key"] = key
    return client.post("/api/email/send", json=body, headers=headers)


def run_task(account: SendAccount, task_id: str) -> EagerResult:
    """Execute send_email in-process with the given task id, retries inline (as Celery's apply does)."""
    kwargs = {
        "email_client_id": account.account_id,
        "tenant_id": account.caller.tenant_id,
        "user_id": account.caller.user_id,
        "to": ["bob@example.test"],
    }
    return cast(EagerResult, send_email.apply(kwargs=kwargs, task_id=task_id))


def outbox_row(caller: Caller, outbox_id: str) -> OutboxMessage:
    with session_scope(caller.tenant_id) as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        return row


def counts(caller: Caller) -> tuple[int, int]:
    """(outbox rows, task records) of the caller: proof that nothing was queued."""
    with session_scope(caller.tenant_id) as session:
        rows = len(list(session.scalars(select(OutboxMessage.id))))
        tasks = len(list(session.scalars(select(TaskRecord.id).where(TaskRecord.kind == "send_email"))))
        return rows, tasks


def parse(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(raw))


def claim(job: SendJob) -> Any:
    """What a send task does first: its own row queued → sending, committed (or the stored answer)."""
    with session_scope(job.tenant_id) as session:
        return claim_in(session, job)
