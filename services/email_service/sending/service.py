"""send_email's use case: exactly-once in effect over an at-least-once queue.

The outbox row (id = task id) is the truth. 'sending' is committed before SMTP starts, the MIME is
built once and stored (retries send identical bytes and Message-ID), and a row found in 'sending'
by the account's drainer means an earlier one died mid-send (a live one would still hold the
account's send lock): it is resolved from the Sent folder or marked 'uncertain', never blindly
resent. The states are drawn in sending/drainer.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, object_session

from email_service.accounts.model import EmailAccount
from email_service.accounts.service import load_account_for_task
from email_service.core.db import fetch_one_scoped, session_scope
from email_service.core.errors import PermanentError, TaskUnauthorized
from email_service.core.tenancy.scoping import owned_row_query, scoped
from email_service.events.log import append_changes
from email_service.events.model import SEND_FAILED, SEND_SENT
from email_service.mail.imap.client import ImapError
from email_service.mail.smtp.client import SmtpError, SmtpPermanentError, SmtpUncertainError
from email_service.sending.build import (
    AccountContext,
    Prepared,
    account_context,
    mark_parent_answered,
    prepare,
)
from email_service.sending.delivery import SmtpConnections, sent_copy_exists
from email_service.sending.model import OutboxMessage

log = logging.getLogger(__name__)
TERMINAL = frozenset({"sent", "failed", "uncertain", "cancelled"})
# Outcomes the change log tells (object_id: the outbox id, which is also the send's taskId).
SEND_CHANGES = {"sent": SEND_SENT, "failed": SEND_FAILED}


class SendFailed(PermanentError):
    """The server refused the message for good; `result` holds the per-recipient replies."""

    def __init__(self, message: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result or {}


@dataclass(frozen=True)
class SendJob:
    """One run of the task: which row, for whom, and whether a transient failure may still retry."""

    outbox_id: str
    account_id: str
    tenant_id: str
    user_id: str
    request: dict[str, Any] = field(default_factory=dict)
    final_attempt: bool = False


# A finished row's stored answer, scoped to the task's tenant and user, in one round trip.
_FINISHED = owned_row_query(
    OutboxMessage,
    OutboxMessage.account_id,
    OutboxMessage.status,
    OutboxMessage.result,
    OutboxMessage.error,
    OutboxMessage.message_id_header,
    id_param="outbox_id",
)


def finished_result(job: SendJob) -> dict[str, Any] | None:
    """A finished row's stored answer from one plain read: no row lock, no durable commit.

    Most sibling tasks of a batch end here, so it is one scoped SELECT, not a Session with an
    account lookup: the row is the tenant's and user's (scoped) and names the job's account, which
    the API checked belonged to them when it queued the row. Anything else takes the full path.
    """
    params = {"outbox_id": job.outbox_id, "tenant_id": job.tenant_id, "user_id": job.user_id}
    found = fetch_one_scoped(job.tenant_id, _FINISHED, params)
    if found is None or found[1] not in TERMINAL:
        return None
    account_id, status, result, error, message_id = found
    if account_id != job.account_id:
        raise TaskUnauthorized("outbox row belongs to another account")
    row = OutboxMessage(status=status, result=result, error=error, message_id_header=message_id)
    return stored_result(row)


def answer(result: dict[str, Any]) -> dict[str, Any]:
    """The task's answer from a stored result: a failed row fails the task (and notifies) again."""
    if result.get("status") == "failed":
        raise SendFailed(str(result.get("error") or "send failed"), result)
    return result


def claim_in(session: Session, job: SendJob) -> Prepared | dict[str, Any]:
    """The claim of the job's own row inside the caller's transaction (a batch adds siblings)."""
    account = load_account_for_task(session, job.account_id, job.tenant_id, job.user_id)
    row = _locked_row(session, job)
    if row.account_id != account.id:
        raise TaskUnauthorized("outbox row belongs to another account")
    if row.status in TERMINAL:
        return stored_result(row)
    return claim_row(session, row, account, account_context(session, account))


def claim_row(
    session: Session, row: OutboxMessage, account: EmailAccount, ctx: AccountContext
) -> Prepared | dict[str, Any]:
    """One locked, unfinished row → 'sending' (or 'recovering' when an earlier sender died)."""
    if row.status == "sending":
        return prepare(session, row, account, ctx, recovering=True)
    step = _prepared_or_failed(session, row, account, ctx)
    if isinstance(step, Prepared):
        row.status = "sending"
        row.attempts = (row.attempts or 0) + 1
    return step


def prepare_claimed(
    session: Session, row: OutboxMessage, account: EmailAccount, ctx: AccountContext
) -> Prepared | dict[str, Any]:
    """claim_row for a row the caller's UPDATE already moved from 'queued' to 'sending' (attempts + 1)."""
    step = _prepared_or_failed(session, row, account, ctx)
    if not isinstance(step, Prepared):
        row.attempts = max((row.attempts or 1) - 1, 0)  # a message that cannot be built was not attempted
    return step


def _prepared_or_failed(
    session: Session, row: OutboxMessage, account: EmailAccount, ctx: AccountContext
) -> Prepared | dict[str, Any]:
    """prepare(), or the row finished as 'failed' (and its stored answer) when it cannot be built."""
    try:
        return prepare(session, row, account, ctx, recovering=False)
    except PermanentError as exc:
        finish_row(row, "failed", {"status": "failed", "error": str(exc)}, str(exc))
        return stored_result(row)


def _locked_row(session: Session, job: SendJob) -> OutboxMessage:
    """The row under FOR UPDATE; a task published without the API (contract callers) gets one made."""
    query = scoped(OutboxMessage, job.tenant_id, job.user_id).where(OutboxMessage.id == job.outbox_id)
    row: OutboxMessage | None = session.scalars(query.with_for_update()).first()
    if row is not None:
        return row
    if not job.request:
        # Published by the API with ids only; the row is gone (discarded, or pruned long after).
        raise PermanentError(f"outbox row {job.outbox_id} not found")
    row = OutboxMessage(
        id=job.outbox_id,
        tenant_id=job.tenant_id,
        user_id=job.user_id,
        account_id=job.account_id,
        status="queued",
        request={**job.request, "email_client_id": job.account_id},
    )
    session.add(row)
    session.flush()
    return row


@dataclass
class Attempt:
    """What one SMTP attempt decided; `exc` is raised to the task after the outcome is committed."""

    status: str
    result: dict[str, Any]
    error: str | None = None
    sent_at: datetime | None = None
    exc: Exception | None = None


def attempt(job: SendJob, step: Prepared, smtp: SmtpConnections) -> Attempt:
    """One SMTP transaction, classified: sent / uncertain / failed (permanent or out of retries) / queued."""
    try:
        sent = smtp.send(job.account_id, step.smtp, step.envelope_from, step.recipients, step.raw)
    except SmtpUncertainError as exc:
        log.error("send %s: no reply after the body; marked uncertain, not resent", job.outbox_id)
        return Attempt("uncertain", _failure(step, exc, "uncertain"), str(exc))
    except SmtpPermanentError as exc:
        result = _failure(step, exc, "failed")
        return Attempt("failed", result, str(exc), exc=SendFailed(f"send refused: {exc}", result))
    except SmtpError as exc:
        if not job.final_attempt:
            return Attempt("queued", _failure(step, exc, "queued"), str(exc), exc=exc)
        result = _failure(step, exc, "failed")
        return Attempt(
            "failed", result, str(exc), exc=SendFailed(f"send failed after retries: {exc}", result)
        )
    sent_at = datetime.now(UTC)
    result = {
        "status": "partially_sent" if sent.refused else "sent",
        "message_id": step.message_id,
        "sent_timestamp": int(sent_at.timestamp() * 1000),
        "recipients_sent": len(sent.accepted),
        "accepted": list(sent.accepted),
        "refused": {addr: {"code": code, "reply": reply} for addr, (code, reply) in sent.refused.items()},
        "server_reply": sent.reply,
    }
    return Attempt("sent", result, sent_at=sent_at)


def _failure(step: Prepared, exc: SmtpError, status: str) -> dict[str, Any]:
    refused = {addr: {"code": code, "reply": reply} for addr, (code, reply) in exc.refused.items()}
    return {
        "status": status,
        "message_id": step.message_id,
        "sent_timestamp": None,
        "recipients_sent": 0,
        "code": exc.code,
        "server_reply": exc.server_reply,
        "refused": refused,
    }


def _record(
    job: SendJob,
    status: str,
    result: dict[str, Any],
    error: str | None,
    sent_at: datetime | None = None,
    parent_id: str | None = None,
) -> dict[str, Any]:
    """Commit the outcome (keeping the stored envelope) and mark the parent answered in the same txn."""
    with session_scope(job.tenant_id) as session:
        row = _locked_row(session, job)
        finish_row(row, status, result, error, sent_at)
        if parent_id:
            mark_parent_answered(session, parent_id, job.tenant_id, job.user_id)
    return result


def finish_row(
    row: OutboxMessage,
    status: str,
    result: dict[str, Any],
    error: str | None,
    sent_at: datetime | None = None,
) -> None:
    envelope = (row.result or {}).get("envelope")
    if status in SEND_CHANGES and row.status != status:
        session = object_session(row)
        assert session is not None, "finish_row takes a row of an open session"
        owner = (row.tenant_id, row.user_id)
        append_changes(session, owner, SEND_CHANGES[status], row.account_id, [row.id], {"status": status})
    row.status = status
    row.result = {**result, **({"envelope": envelope} if envelope else {})}
    row.error = error
    if sent_at is not None:
        row.sent_at = sent_at


def recover(job: SendJob, step: Prepared) -> dict[str, Any]:
    """An earlier run died after committing 'sending': the Sent folder may prove it was delivered."""
    try:  # a POP3 account has no Sent folder to look in (no IMAP server)
        found = bool(step.write_back.imap.host) and sent_copy_exists(
            step.write_back.imap, step.write_back.sent_folder, step.message_id
        )
    except ImapError as exc:  # no proof either way (anything else is a bug and fails the run loudly)
        log.warning("send %s: could not check the Sent folder: %s", job.outbox_id, exc)
        found = False
    if found:
        result = {
            "status": "sent",
            "message_id": step.message_id,
            "sent_timestamp": None,
            "recipients_sent": len(step.recipients),
            "recovered": True,
        }
        return _record(job, "sent", result, None, sent_at=datetime.now(UTC), parent_id=step.parent_id)
    message = "an earlier attempt stopped while sending; it may or may not have been delivered"
    log.error("send %s: %s (not resent)", job.outbox_id, message)
    result = {
        "status": "uncertain",
        "message_id": step.message_id,
        "sent_timestamp": None,
        "recipients_sent": 0,
    }
    return _record(job, "uncertain", result, message)


def stored_result(row: OutboxMessage) -> dict[str, Any]:
    """What a finished (or cancelled) row answers to a redelivered task, without touching SMTP."""
    stored = {k: v for k, v in (row.result or {}).items() if k != "envelope"}
    if row.status == "cancelled":
        return {"status": "cancelled", "message_id": None, "sent_timestamp": None, "recipients_sent": 0}
    base = {"status": row.status, "message_id": row.message_id_header, "sent_timestamp": None}
    return {**base, "recipients_sent": 0, "error": row.error, **stored}
