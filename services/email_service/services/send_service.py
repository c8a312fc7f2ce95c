"""send_email's use case: exactly-once in effect over an at-least-once queue.

The outbox row (id = task id) is the truth. 'sending' is committed before SMTP starts, the MIME is
built once and stored (retries send identical bytes and Message-ID), and a row found in 'sending'
by a later run means an earlier run died mid-send: it is resolved from the Sent folder or marked
'uncertain', never blindly resent. On PostgreSQL an advisory lock tells "died" from "still running".
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from email_service.crypto import get_secret_box
from email_service.db import get_engine, session_scope
from email_service.errors import PermanentError, TaskUnauthorized
from email_service.mail.smtp import SmtpError, SmtpPermanentError, SmtpUncertainError
from email_service.models import OutboxMessage
from email_service.services.accounts import load_account_for_task
from email_service.services.mail_settings import imap_settings, smtp_settings
from email_service.services.send_build import Prepared, mark_parent_answered, prepare
from email_service.services.send_delivery import SmtpConnections, WriteBack, sent_copy_exists, write_back
from email_service.tenancy.scoping import scoped

log = logging.getLogger(__name__)
TERMINAL = frozenset({"sent", "failed", "uncertain", "cancelled"})


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


def lock_key(outbox_id: str) -> int:
    """A stable 64-bit advisory-lock key per outbox row (shared with the batch sender)."""
    return int.from_bytes(hashlib.blake2b(outbox_id.encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def exclusive_run(outbox_id: str) -> Iterator[bool]:
    """True when no other live run holds this row (PostgreSQL session lock, freed if a worker dies)."""
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_key(outbox_id)
    with engine.connect() as conn:
        held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()
        try:
            yield held
        finally:
            if held:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
                except Exception:
                    conn.invalidate()  # never return a pooled connection that still holds the lock
                    raise


def send_outbox_message(job: SendJob, smtp: SmtpConnections) -> dict[str, Any]:
    """Run one send attempt; returns the task result, raises SendFailed / SmtpError for the task."""
    with exclusive_run(job.outbox_id) as held:
        if not held:
            return {"status": "in_progress", "message_id": None, "sent_timestamp": None, "recipients_sent": 0}
        step = _claim(job)
        if isinstance(step, dict):
            if step.get("status") == "failed":
                raise SendFailed(str(step.get("error") or "send failed"), step)
            return step
        if step.recovering:
            return _recover(job, step)
        return _transmit(job, step, smtp)


def _claim(job: SendJob) -> Prepared | dict[str, Any]:
    """queued/scheduled → sending (committed); terminal rows answer from what is stored."""
    with session_scope(job.tenant_id) as session:
        return claim_in(session, job)


def claim_in(session: Session, job: SendJob) -> Prepared | dict[str, Any]:
    """The claim inside the caller's transaction (a batch claims many rows in one)."""
    account = load_account_for_task(session, job.account_id, job.tenant_id, job.user_id)
    row = _locked_row(session, job)
    if row.account_id != account.id:
        raise TaskUnauthorized("outbox row belongs to another account")
    if row.status in TERMINAL:
        return stored_result(row)
    box = get_secret_box()
    settings = (smtp_settings(account, box), imap_settings(account, box))
    if row.status == "sending":
        return prepare(session, row, account, *settings, recovering=True)
    try:
        step = prepare(session, row, account, *settings, recovering=False)
    except PermanentError as exc:
        _finish(row, "failed", {"status": "failed", "error": str(exc)}, str(exc))
        return stored_result(row)
    row.status = "sending"
    row.attempts = (row.attempts or 0) + 1
    return step


def _locked_row(session: Session, job: SendJob) -> OutboxMessage:
    """The row under FOR UPDATE; a task published without the API (contract callers) gets one made."""
    query = scoped(OutboxMessage, job.tenant_id, job.user_id).where(OutboxMessage.id == job.outbox_id)
    row: OutboxMessage | None = session.scalars(query.with_for_update()).first()
    if row is not None:
        return row
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
class Outcome:
    """What one SMTP attempt decided; `exc` is raised to the task after the outcome is committed."""

    status: str
    result: dict[str, Any]
    error: str | None = None
    sent_at: datetime | None = None
    exc: Exception | None = None


def attempt(job: SendJob, step: Prepared, smtp: SmtpConnections) -> Outcome:
    """One SMTP transaction, classified: sent / uncertain / failed (permanent or out of retries) / queued."""
    try:
        sent = smtp.send(job.account_id, step.smtp, step.envelope_from, step.recipients, step.raw)
    except SmtpUncertainError as exc:
        log.error("send %s: no reply after the body; marked uncertain, not resent", job.outbox_id)
        return Outcome("uncertain", _failure(step, exc, "uncertain"), str(exc))
    except SmtpPermanentError as exc:
        result = _failure(step, exc, "failed")
        return Outcome("failed", result, str(exc), exc=SendFailed(f"send refused: {exc}", result))
    except SmtpError as exc:
        if not job.final_attempt:
            return Outcome("queued", _failure(step, exc, "queued"), str(exc), exc=exc)
        result = _failure(step, exc, "failed")
        return Outcome(
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
    return Outcome("sent", result, sent_at=sent_at)


def record_outcome(session: Session, job: SendJob, step: Prepared, outcome: Outcome) -> None:
    """Store the outcome on the row (keeping the envelope); a delivered reply marks its parent answered."""
    row = _locked_row(session, job)
    _finish(row, outcome.status, outcome.result, outcome.error, outcome.sent_at)
    if outcome.status == "sent" and step.parent_id:
        mark_parent_answered(session, step.parent_id, job.tenant_id, job.user_id)


def _transmit(job: SendJob, step: Prepared, smtp: SmtpConnections) -> dict[str, Any]:
    """SMTP, commit the outcome, then the best-effort IMAP write-back; errors reach the task after commit."""
    outcome = attempt(job, step, smtp)
    with session_scope(job.tenant_id) as session:
        record_outcome(session, job, step, outcome)
    if outcome.exc is not None:
        raise outcome.exc
    if outcome.status == "sent":
        assert outcome.sent_at is not None
        outcome.result["write_back"] = write_back_safely(job, step.write_back, step.raw, outcome.sent_at)
    return outcome.result


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
        _finish(row, status, result, error, sent_at)
        if parent_id:
            mark_parent_answered(session, parent_id, job.tenant_id, job.user_id)
    return result


def _finish(
    row: OutboxMessage,
    status: str,
    result: dict[str, Any],
    error: str | None,
    sent_at: datetime | None = None,
) -> None:
    envelope = (row.result or {}).get("envelope")
    row.status = status
    row.result = {**result, **({"envelope": envelope} if envelope else {})}
    row.error = error
    if sent_at is not None:
        row.sent_at = sent_at


def write_back_safely(job: SendJob, plan: WriteBack, raw: bytes, sent_at: datetime) -> dict[str, str]:
    """Best effort: a failed APPEND or STORE is logged and reported, the send stays a success."""
    try:
        report = write_back(plan, raw, sent_at)
    except Exception as exc:  # the message is delivered; nothing here may undo that
        log.warning("send %s: write-back failed unexpectedly: %s", job.outbox_id, exc)
        report = {"sent_copy": "failed", "parent_flag": "failed"}
    if report.get("sent_copy") not in ("saved", "skipped"):
        log.warning("send %s: copy to Sent: %s", job.outbox_id, report["sent_copy"])
    return report


def _recover(job: SendJob, step: Prepared) -> dict[str, Any]:
    """An earlier run died after committing 'sending': the Sent folder may prove it was delivered."""
    try:
        found = sent_copy_exists(step.write_back.imap, step.write_back.sent_folder, step.message_id)
    except Exception as exc:  # no proof either way
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
